package repl

import (
	"errors"

	"github.com/chzyer/readline"
)

// This file is the only one that knows github.com/chzyer/readline: it
// adapts a readline instance to the shell's lineReader and its completion
// to readline's AutoCompleter.

// terminalReader reads lines with editing, history and completion from the
// process's terminal.
type terminalReader struct{ rl *readline.Instance }

// completeFunc is the shell's completion: candidates' suffixes and the
// length in runes of the word they complete.
type completeFunc func(line string, pos int) ([]string, int)

func (f completeFunc) Do(line []rune, pos int) ([][]rune, int) {
	sfx, n := f(string(line), pos)
	out := make([][]rune, len(sfx))
	for i, s := range sfx {
		out[i] = []rune(s)
	}
	return out, n
}

func newTerminalReader(opts ShellOptions, complete completeFunc) (*terminalReader, error) {
	rl, err := readline.NewEx(&readline.Config{
		Prompt:       primaryPrompt,
		HistoryFile:  opts.HistoryFile,
		HistoryLimit: 5000,
		// The shell saves whole statements, not the lines they span.
		DisableAutoSaveHistory: true,
		HistorySearchFold:      true,
		AutoComplete:           complete,
		InterruptPrompt:        "^C",
		EOFPrompt:              "\n",
		Stdout:                 opts.Stdout,
		Stderr:                 opts.Stderr,
	})
	if err != nil {
		return nil, err
	}
	return &terminalReader{rl: rl}, nil
}

func (t *terminalReader) Readline(prompt string) (string, error) {
	t.rl.SetPrompt(prompt)
	line, err := t.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", errInterrupt
	}
	return line, err
}

// AddHistory records an entry; failing to write the history file is not
// worth interrupting a session for.
func (t *terminalReader) AddHistory(entry string) {
	if entry != "" {
		t.rl.SaveHistory(entry)
	}
}

func (t *terminalReader) Close() error { return t.rl.Close() }
