package quern

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// DefaultMemoryLimit is 60% of the machine's memory (of the cgroup's limit
// when that is smaller), the default Config.MemoryLimit; 0 when neither
// can be read, which means no limit.
func DefaultMemoryLimit() int64 {
	total := physicalMemory()
	if c := cgroupLimit(); c > 0 && (total == 0 || c < total) {
		total = c
	}
	return total / 10 * 6
}

// physicalMemory reads MemTotal from /proc/meminfo (Linux).
func physicalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupLimit reads a cgroup v2 memory limit ("max" or absent: none).
func cgroupLimit() int64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}
