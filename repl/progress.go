package repl

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress draws a one-line status on a terminal while a statement runs:
// nothing for the first delay (most queries finish sooner), then a spinner
// and the elapsed time, redrawn in place with a carriage return. Stop
// erases it, so the result prints on a clean line.
//
// The engine does not report task counts while a job runs, so the line
// shows what the shell knows: that the job is running and for how long.
type progress struct {
	w     io.Writer
	start time.Time
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

const (
	progressTick         = 100 * time.Millisecond
	defaultProgressDelay = 500 * time.Millisecond
)

var spinner = [...]string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// startProgress starts drawing on w after delay.
func startProgress(w io.Writer, delay time.Duration) *progress {
	p := &progress{w: w, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
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
		fmt.Fprintf(p.w, "\r\x1b[K%s running · %s · Ctrl-C cancels", spinner[frame%len(spinner)], formatElapsed(time.Since(p.start)))
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
