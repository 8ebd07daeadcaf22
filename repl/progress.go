package repl

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/quernsql/quern"
)

// progress draws a one-line status on a terminal while a statement runs:
// nothing for the first delay (most queries finish sooner), then a spinner
// and the elapsed time, redrawn in place with a carriage return. Stop
// erases it, so the result prints on a clean line.
//
// When the engine reports its running jobs (status is set), the line
// shows the stage, tasks done/running/total, retried tasks, and the rows
// and bytes per second of the outputs so far.
type progress struct {
	status func() string
	w      io.Writer
	start  time.Time
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

const (
	progressTick         = 100 * time.Millisecond
	defaultProgressDelay = 500 * time.Millisecond
)

var spinner = [...]string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// startProgress starts drawing on w after delay.
func startProgress(w io.Writer, delay time.Duration, status func() string) *progress {
	p := &progress{w: w, status: status, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go p.run(delay)
	return p
}

func (p *progress) run(delay time.Duration) {
	defer close(p.done)
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-p.stop:
		return
	case <-t.C:
	}
	tick := time.NewTicker(progressTick)
	defer tick.Stop()
	for frame := 0; ; frame++ {
		detail := ""
		if p.status != nil {
			if d := p.status(); d != "" {
				detail = " · " + d
			}
		}
		fmt.Fprintf(p.w, "\r\x1b[K%s running%s · %s · Ctrl-C cancels", spinner[frame%len(spinner)], detail, formatElapsed(time.Since(p.start)))
		select {
		case <-p.stop:
			io.WriteString(p.w, "\r\x1b[K")
			return
		case <-tick.C:
		}
	}
}

// Stop erases the line (if it was drawn) and returns once it is gone. It
// may be called on a nil progress and more than once.
func (p *progress) Stop() {
	if p == nil {
		return
	}
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

// formatElapsed is a stopwatch reading that does not jitter in width:
// 0.7 s, 12.3 s, 2m05s.
func formatElapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// jobStatus describes the first running job of db for the progress line:
// "stage 1/2 · tasks 3/8 (2 running, 1 retried) · 1.2M rows/s · 45 MB/s".
func jobStatus(db *quern.DB, start time.Time) func() string {
	return func() string {
		jobs := db.Progress()
		if len(jobs) == 0 {
			return ""
		}
		st := jobs[0]
		cur := len(st.Stages) - 1
		for i, sg := range st.Stages {
			if sg.Done < sg.Tasks {
				cur = i
				break
			}
		}
		sg := st.Stages[cur]
		retried := 0
		var rows, bytes int64
		for _, x := range st.Stages {
			retried += x.Retries + x.Reexecutions
			rows += x.Rows
			bytes += x.Bytes
		}
		s := fmt.Sprintf("stage %d/%d · tasks %d/%d (%d running", cur+1, len(st.Stages), sg.Done, sg.Tasks, sg.Running)
		if retried > 0 {
			s += fmt.Sprintf(", %d retried", retried)
		}
		s += ")"
		if secs := time.Since(start).Seconds(); secs > 0 && rows > 0 {
			s += fmt.Sprintf(" · %s rows/s · %s/s", humanCount(float64(rows)/secs), humanBytes(float64(bytes)/secs))
		}
		return s
	}
}

func humanCount(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func humanBytes(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.2f GB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}
