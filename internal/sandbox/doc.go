// Package sandbox confines the files quern opens on behalf of SQL to a set
// of allowed directories, so that a query (or a task sent by a coordinator
// one should not trust) cannot read /etc/passwd or a home directory.
//
// A path is allowed when, after resolving it the way the operating system
// will (symbolic links followed, then `..` applied to the real directory,
// relative paths taken from the working directory), it lies inside an
// allowed directory, compared component by component (/data2 is not inside
// /data). A path that does not exist yet is judged by its nearest existing
// ancestor. A nil *Dirs allows every path: that is the embedded library's
// default. A denial is a *DeniedError (errors.Is(err, ErrDenied)) that
// names the path and the allowed directories and tells how to widen them.
//
//	Check(path) ─▶ resolve symlinks and `..` ─▶ inside one of Dirs? ─▶ nil
//	                                                  └─ no ─▶ *DeniedError
//
// Checking is done where a path enters (the catalog, when a file table is
// named) and again where it is opened (each task on each worker), since a
// worker cannot trust the paths it is sent. There is a window between a
// check and the open in which a symbolic link could be swapped; the
// sandbox guards against queries, not against local users who can write
// inside the allowed directories.
package sandbox
