package sipcorpus

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// Result is the outcome of one Send.
type Result struct {
	Send
	Addr string // where it went
	Got  string // the outcome; "" when Err is set
	Err  error  // the exchange could not take place
}

// OK reports whether the outcome matches the expectation.
func (r Result) OK() bool { return r.Err == nil && Matches(r.Want, r.Got) }

// String describes the result in one line, with the message's start line
// and the note when it does not match.
func (r Result) String() string {
	got := r.Got
	if r.Err != nil {
		got = "error: " + r.Err.Error()
	}
	s := fmt.Sprintf("%s over %s (instance %d, %s): got %s, want %s", r.Case.File, r.Transport, r.Instance, r.Addr, got, r.Want)
	if r.OK() {
		return s
	}
	return fmt.Sprintf("%s\n\twhy: %s\n\tstart line: %q", s, r.Case.Note, startLine(r.Case.Data))
}

// startLine returns a message's first line, cut at 100 bytes.
func startLine(data []byte) string {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	if len(line) > 100 {
		return string(line[:100]) + "..."
	}
	return string(line)
}

// Run exchanges every send, in order, with addr(instance, transport) and
// returns one Result per send.
func (c Client) Run(sends []Send, addr func(instance int, transport string) string) []Result {
	results := make([]Result, 0, len(sends))
	for _, s := range sends {
		r := Result{Send: s, Addr: addr(s.Instance, s.Transport)}
		r.Got, r.Err = c.Exchange(s.Transport, r.Addr, s.Case.Data, s.Want)
		results = append(results, r)
	}
	return results
}

// Table formats results as an aligned table, one row per result (mismatches
// marked), preceded by a summary: how many matched, and how often each
// outcome came back per transport.
func Table(results []Result) string {
	var b strings.Builder
	bad := 0
	counts := map[string]int{}
	for _, r := range results {
		if !r.OK() {
			bad++
		}
		got := r.Got
		if r.Err != nil {
			got = "error"
		}
		counts[r.Transport+" "+got]++
	}
	fmt.Fprintf(&b, "%d exchanges: %d as expected, %d differ\n", len(results), len(results)-bad, bad)
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-20s %3d\n", k, counts[k])
	}
	fmt.Fprintf(&b, "%-42s %-4s %-4s %-14s %-14s\n", "file", "tp", "inst", "want", "got")
	for _, r := range results {
		got, mark := r.Got, ""
		if r.Err != nil {
			got = "error"
		}
		if !r.OK() {
			mark = "  MISMATCH"
		}
		fmt.Fprintf(&b, "%-42s %-4s %-4d %-14s %-14s%s\n", r.Case.File, r.Transport, r.Instance, r.Want, got, mark)
	}
	return b.String()
}
