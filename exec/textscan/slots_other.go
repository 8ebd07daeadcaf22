//go:build !linux

package textscan

func allocSlots(n int) []slot { return make([]slot, n) }

func freeSlots([]slot) {}
