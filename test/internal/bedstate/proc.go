package bedstate

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// StartTime is field 22 of /proc/PID/stat (clock ticks since boot); 0
// when the process is gone. With the PID it names one process for good:
// a PID the kernel hands out again comes with another start time.
func StartTime(pid int) uint64 {
	f := statFields(pid)
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// statFields are the fields of /proc/PID/stat after the command name
// (which may itself hold spaces and parentheses).
func statFields(pid int) []string {
	if pid <= 0 {
		return nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// Zombie reports whether pid is gone or a zombie: dead either way.
func Zombie(pid int) bool {
	f := statFields(pid)
	return len(f) == 0 || f[0] == "Z" || f[0] == "X"
}

// Alive reports whether pid runs, is the process recorded with start
// (not a later one with the same PID), and is no zombie.
func Alive(pid int, start uint64) bool {
	return pid > 0 && start != 0 && StartTime(pid) == start && !Zombie(pid)
}

// PPID is the parent of pid, 0 when pid is gone.
func PPID(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(line, "PPid:"); ok {
			p, _ := strconv.Atoi(strings.TrimSpace(f))
			return p
		}
	}
	return 0
}
