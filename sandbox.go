package quern

import (
	"strings"

	"github.com/quernsql/quern/internal/sandbox"
)

// The file-access sandbox (Config.AllowDirs): the catalog refuses file
// tables outside the allowed directories when a query names them, and the
// local pool's tasks check their split again before opening it, as every
// worker of a cluster does (cluster.WorkerConfig.AllowDirs). With no
// AllowDirs there is no restriction.

// useSandbox confines the files this DB's catalog reads to
// Config.AllowDirs; call it before any table is registered.
func (db *DB) useSandbox() error {
	access, err := sandbox.New(db.cfg.AllowDirs)
	if err != nil {
		return err
	}
	db.catalog.access = access
	return nil
}

// confine makes the local pool's tasks check their input files too: a file
// may have been swapped for a link since the query was planned.
func (e *engine) confine(access *sandbox.Dirs) {
	if e.x != nil && access != nil {
		e.x.Access = access
	}
}

// checkPattern refuses a file table outside the allowed directories before
// anything about it is read (whether it exists, what a glob matches). Each
// file a glob matches is checked again as it is read (catalog.file).
func (c *catalog) checkPattern(pattern string) error {
	if strings.ContainsAny(pattern, "*?[") {
		return c.access.CheckGlob(pattern)
	}
	return c.access.Check(pattern)
}
