package test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/test/sipcorpus"
)

// tortureDir is the RFC 4475 and RFC 5118 corpus with our expectations
// (expect.tsv); the messages are byte-exact copies of
// ../shared/corpora/rfc4475 and rfc5118, kept in the repository so the test
// runs wherever the tree is checked out.
var tortureDir = filepath.Join("..", "b2bua", "testdata", "torture")

// TestTortureE2E is bad input against the real binary: every RFC 4475 and
// RFC 5118 message, over UDP and over TCP, each on a fresh socket or
// connection. Each answer must be what expect.tsv says (its server column
// where set; sipcorpus.Load has checked expect.tsv against the corpus'
// EXPECTATIONS.tsv, so the definite codes 400, 505, 416, 420, 415, 501,
// 401, 406 and the drops are the RFC's). Then every instance must still
// answer OPTIONS with 200 over both transports, and its process be alive.
//
// Several messages share a transaction key, which one server would take
// for a retransmission: sipcorpus.Plan spreads them over as many instances
// as that needs. b2bua's TestTortureServer runs the same plan in process.
func TestTortureE2E(t *testing.T) {
	cases, err := sipcorpus.Load(tortureDir)
	if err != nil {
		t.Fatal(err)
	}
	sends, n := sipcorpus.Plan(cases)
	sbs := make([]*SB, n)
	for i := range sbs {
		sbs[i] = startSB(t, SBOptions{Users: []string{"1000"}})
	}
	addr := func(i int, _ string) string { return sbs[i].Addr() } // udp and tcp share the port
	// A longer wait than in process: the machine is shared and CI is slower;
	// it only costs time when an expected answer does not come.
	client := sipcorpus.Client{Wait: 5 * time.Second}
	results := client.Run(append(sends, sipcorpus.Probes(n)...), addr)
	t.Logf("%d switchboard instances; outcomes:\n%s", n, sipcorpus.Table(results))
	for _, r := range results {
		if !r.OK() {
			t.Error(r)
		}
	}
	for i, sb := range sbs {
		if !sb.Alive() {
			t.Errorf("instance %d (%s) exited during the torture run; its output ends:\n%s", i, sb.Addr(), tail(sb.Output(), 4000))
		}
	}
}
