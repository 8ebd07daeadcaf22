// Package cluster runs jobs (DAGs of stages of tasks) on a pool of workers.
//
// The core is Scheduler, a pure state machine in the style of etcd's raft:
// Step takes one Event (a worker came up, went quiet, reported a task; the
// clock ticked; a job was submitted, cancelled or released) and returns the
// Actions it causes (Launch, Kill, Discard, JobSucceeded, JobFailed). It reads
// no clock and starts no goroutine, so every failure rule is tested by
// feeding events. A driver owns the goroutines, sockets and clocks and
// carries out the actions: LocalPool is the in-process driver; the Flight
// transport drives the same Scheduler across processes. The scheduler knows
// only the shape of a job (JobSpec: stages, task counts, dependencies); what
// a task computes is up to the driver's Runner.
//
// Contract, following the MapReduce paper:
//   - A stage's tasks start once every task of every upstream stage has an
//     accepted output on a live worker; Launch lists those outputs.
//   - Tasks are idempotent and every attempt writes under its own AttemptID;
//     only the accepted attempt is read, every other output gets a Discard
//     once the attempt has stopped. Without failures or stragglers every
//     task runs exactly once.
//   - A worker silent for HeartbeatTimeout is dead: its running attempts are
//     re-run elsewhere, and so are its outputs while some consumer still
//     needs them. Running consumers of a lost output are killed and
//     relaunched with the new locations (they report no fetch progress, so
//     the scheduler cannot tell which already read it, and one still
//     fetching from a dead host would otherwise wait for a network timeout).
//     A FetchFailed report is handled the same way for the one output it
//     names, and is not held against the reporter's attempt budget.
//   - A Transient failure is retried up to MaxAttempts, away from the
//     workers the task failed on when another worker is alive; a
//     Deterministic one fails the job at once. JobFailed wraps the task's
//     error, so errors.Is/As see it.
//   - Once SpeculationQuantile of a stage is done, a task running longer
//     than max(SpeculationMin, SpeculationFactor × median) gets one backup
//     on another worker; the first to succeed wins and the other is killed.
//   - Free slots go to runnable tasks one job at a time, round-robin, so
//     concurrent jobs share the pool; backups come after idle tasks.
//   - When a job ends, its intermediate outputs are discarded; the last
//     stage's stay until ReleaseJob.
//
// The life of a task (an attempt is one run of it):
//
//	           deps ready, slot free: Launch
//	+------+ --------------------------------> +---------+ --+
//	| idle |                                   | running |   | backup of a straggler:
//	+------+ <-------------------------------- +---------+ <-+ a second attempt
//	   ^     transient failure with attempts     |     |
//	   |     left, worker lost, FetchFailed,     |     | deterministic error, last
//	   |     or killed because an input was lost |     | attempt failed, cancel,
//	   |                                         |     | no live workers
//	   |                 first attempt succeeds  |     v
//	   |                 (the other one: Kill,   |  +--------+
//	   |                 Discard once it stops)  |  | failed |  (the whole job)
//	   |                                         v  +--------+
//	   |  output lost (dead worker,         +-----------+
//	   +----------------------------------- | succeeded | --> Discard when the job ends
//	      FetchFailed); re-run only while   +-----------+     (last stage: at ReleaseJob)
//	      a consumer still needs it
package cluster
