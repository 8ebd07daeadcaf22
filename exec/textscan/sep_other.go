//go:build !amd64

package textscan

func classify(b []byte, nw int, out *[windows]uint64) { classifyGeneric(b, nw, out) }
