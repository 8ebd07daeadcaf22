//go:build !linux

package agg

import "unsafe"

// Elsewhere big arrays stay on the Go heap: bigMake falls back to make.
func mapBytes(int) unsafe.Pointer { return nil }

func remapBytes(unsafe.Pointer, int, int) unsafe.Pointer { return nil }

func unmapBytes(unsafe.Pointer, int) {}

func releaseBytes(unsafe.Pointer, int) {}
