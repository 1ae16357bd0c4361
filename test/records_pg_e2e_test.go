package test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRecordsPostgres: with records.database_url set, every call's record
// reaches a real PostgreSQL (schema created by Switchboard). With the
// database stopped, calls go on and their records wait in the JSON-lines
// files; when it returns they are replayed; a restart of Switchboard
// ships nothing twice. The rows match the files one for one by call id.
func TestRecordsPostgres(t *testing.T) {
	requireTool(t, "sipp")
	pg := startPostgres(t)
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, SBOptions{RecordsExtra: "  database_url: " + pg.URL + "\n"})
	startSipp(t, dir, "-sn", "uas", "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort), "-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2))
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))
	uac := writeScenario(t, "uac-pg", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<pause milliseconds="100"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	calls := func(n int) {
		t.Helper()
		r := runSipp(t, dir, 60*time.Second, "-sf", uac, sb.Addr(), "-i", "127.0.0.3", "-p", strconv.Itoa(uasPort+4),
			"-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6), "-s", "95551234", "-key", "user", "1000",
			"-au", "1000", "-ap", sb.Users["1000"], "-m", strconv.Itoa(n), "-r", "10", "-timeout", "40s", "-timeout_error")
		if r.Stats.Successful != n || r.Err != nil {
			t.Fatalf("sipp: %d of %d calls, %v\n%s", r.Stats.Successful, n, r.Err, tail(r.Out, 2500))
		}
	}
	waitRows := func(n int, within time.Duration) int {
		t.Helper()
		deadline := time.Now().Add(within)
		got := -1
		for time.Now().Before(deadline) {
			if got = pg.QueryInt(`SELECT count(*) FROM switchboard_cdr`); got >= n {
				return got
			}
			time.Sleep(200 * time.Millisecond)
		}
		return got
	}

	calls(5)
	if !sb.waitOutput("records database connected", 10*time.Second) {
		t.Fatal("Switchboard never connected to the records database")
	}
	if got := waitRows(5, 10*time.Second); got != 5 {
		t.Fatalf("%d rows after 5 calls, want 5", got)
	}

	pg.Stop()
	calls(5) // the database is down: calls go on
	if !sb.waitOutput("records database failed", 10*time.Second) && !sb.waitOutput("records database unreachable", 5*time.Second) {
		t.Error("no log line for the database outage")
	}
	if n := len(sb.WaitCDRs(10, 5*time.Second)); n != 10 {
		t.Fatalf("%d records in the files, want 10: the outage lost records", n)
	}
	pg.Start()
	if got := waitRows(10, 40*time.Second); got != 10 {
		t.Fatalf("%d rows 40 s after the database came back, want 10", got)
	}
	if !sb.waitOutput("records database back", 5*time.Second) {
		t.Error("no log line for the database's return")
	}

	// A restart ships nothing twice, and the rows are the files' records.
	restartSB(t, sb)
	calls(1)
	if got := waitRows(11, 20*time.Second); got != 11 {
		t.Fatalf("%d rows after a restart and one more call, want 11", got)
	}
	time.Sleep(1500 * time.Millisecond) // a duplicate would land within a poll or two
	if got := pg.QueryInt(`SELECT count(*) FROM switchboard_cdr`); got != 11 {
		t.Errorf("%d rows, want 11 (a record shipped twice?)", got)
	}
	recs := sb.CDRs()
	var ids []string
	for _, r := range recs {
		ids = append(ids, "'"+r.CallID+"'")
	}
	if len(recs) != 11 {
		t.Fatalf("%d records in the files, want 11", len(recs))
	}
	if got := pg.QueryInt(`SELECT count(*) FROM switchboard_cdr WHERE call_id IN (` + strings.Join(ids, ",") + `) AND status = 200 AND disposition = 'answered' AND record->>'dialled' = '95551234'`); got != 11 {
		t.Errorf("%d rows match the files' records (id, status, dialled), want 11", got)
	}
	if v := pg.QueryInt(`SELECT version FROM switchboard_schema`); v < 1 {
		t.Errorf("schema version %d", v)
	}
}
