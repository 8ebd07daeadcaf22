// Command quern runs SQL over files as MapReduce jobs.
//
//	quern [flags] [-c SQL]... [-f FILE]   statements (or standard input; the shell on a terminal)
//	quern slt FILE…                       sqllogictest files
//	quern coordinator --listen HOST:PORT  a cluster coordinator
//	quern worker --coordinator HOST:PORT  a cluster worker
//
// Flags and subcommands only: the work is in the packages. See README.md.
package main
