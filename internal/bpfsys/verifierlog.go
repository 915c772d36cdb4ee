package bpfsys

import "strings"

// verifierStats are the prefixes of the summary lines the verifier prints after its verdict
// (kernel/bpf/verifier.c, print_verification_stats) and of the statistics lines log level
// 4 adds; they never carry the reason.
var verifierStats = []string{
	"processed ",
	"verification time ",
	"stack depth ",
	"max_states_per_insn ",
}

// VerifierError returns the verifier's reason from a log: the last non-empty line that is
// not one of the summary lines the verifier prints after it ("processed N insns ...",
// "verification time ...", "stack depth ..."). It returns "" for a log without one.
func VerifierError(log string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimRight(lines[i], " \t\r")
		if l == "" || isStatsLine(l) {
			continue
		}
		return l
	}
	return ""
}

func isStatsLine(l string) bool {
	for _, p := range verifierStats {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// LogTail returns the last n lines of a log (all of them if n <= 0 or the log is shorter),
// without a trailing empty line, and how many earlier lines it left out.
func LogTail(log string, n int) (lines []string, omitted int) {
	log = strings.TrimRight(log, "\n")
	if log == "" {
		return nil, 0
	}
	all := strings.Split(log, "\n")
	if n <= 0 || len(all) <= n {
		return all, 0
	}
	return all[len(all)-n:], len(all) - n
}
