package main

import (
	"flag"

	"github.com/quernsql/quern"
)

// The sandbox and per-query limit flags: --allow-dir on quern, quern
// coordinator and quern worker; --query-timeout and --max-result-rows on
// the processes that run statements (quern and quern coordinator).

// allowDirFlag adds --allow-dir. A server (coordinator, worker) reads only
// under its working directory unless told otherwise; plain quern reads
// anywhere unless told otherwise. who is what the flag confines.
func allowDirFlag(fs *flag.FlagSet, server bool, who string) func() []string {
	var dirs multiFlag
	usage := "let " + who + " read files only under `DIR` (repeatable; default: anywhere)"
	if server {
		usage = "let " + who + " read files only under `DIR` (repeatable; default: the working directory; / allows everything)"
	}
	fs.Var(&dirs, "allow-dir", usage)
	return func() []string {
		if len(dirs) == 0 && server {
			return []string{"."}
		}
		return dirs
	}
}

// limitFlags adds --allow-dir, --query-timeout and --max-result-rows; the
// returned function puts them in cfg.
func limitFlags(fs *flag.FlagSet, server bool) func(cfg *quern.Config) {
	allow := allowDirFlag(fs, server, "SQL")
	timeout := fs.Duration("query-timeout", 0, "fail a statement that runs longer than `DURATION` (e.g. 30s, 5m) and cancel its job (default: no limit)")
	maxRows := fs.Int64("max-result-rows", 0, "fail a query whose result has more than `N` rows (default: no limit)")
	return func(cfg *quern.Config) {
		cfg.AllowDirs = allow()
		cfg.QueryTimeout = *timeout
		cfg.MaxResultRows = *maxRows
	}
}
