package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestTrunkHealthBackup: trunk "primary" is pinged with OPTIONS every
// 300 ms by a sipp that answers them; when that sipp stops the trunk is
// logged down and a call routed to it goes by the next matching route to
// trunk "backup" (a sipp callee); when the pinged sipp is back the trunk
// is logged up again.
func TestTrunkHealthBackup(t *testing.T) {
	requireTool(t, "sipp")
	port := sigPeerPort()
	apiAddr := fmt.Sprintf("127.0.0.1:%d", sigPeerPort())
	sb := startSB(t, SBOptions{Users: []string{"1000"}, Extra: "api:\n  listen: " + apiAddr + "\n",
		Trunks: fmt.Sprintf(`  - {name: primary, uri: "sip:127.0.0.4:%d", ping_interval: 300ms, failover_timeout: 250ms}
  - {name: backup, uri: "sip:127.0.0.2:%d", trusted: [127.0.0.2/32]}`, port, port),
		Routes: `  - {match: '^9(\d+)$', to: trunk:primary, rewrite: '$1'}
  - {match: '^9(\d+)$', to: trunk:backup, rewrite: '$1'}`})
	dir := t.TempDir()
	pong := writeScenario(t, "uas-options", `<recv request="OPTIONS"/>`, reply("200", "OK", false, ""))
	responder := func() func() {
		cmd := startSipp(t, dir, "-sf", pong, "-i", "127.0.0.4", "-p", strconv.Itoa(port), "-m", "100000")
		waitPort(t, "udp", "127.0.0.4:"+strconv.Itoa(port))
		return func() { _ = cmd.Process.Kill() }
	}
	logged := func(what string, n int) func() bool {
		return func() bool { return strings.Count(sb.Output(), what) >= n }
	}
	stop := responder()
	waitFor(t, 5*time.Second, "primary destination up", logged("trunk destination up", 1))
	stop()
	waitFor(t, 5*time.Second, "primary down", logged("trunk down", 1))
	raw, err := os.ReadFile(filepath.Join(sb.Dir, "state", "api_token"))
	if err != nil {
		t.Fatal(err)
	}
	code, body := apiDo(t, "GET", "http://"+apiAddr+"/api/v1/status", strings.TrimSpace(string(raw)))
	var st struct{ Trunks map[string]string }
	if err := json.Unmarshal(body, &st); code != 200 || err != nil || st.Trunks["primary"] != "down" || st.Trunks["backup"] != "unchecked" {
		t.Errorf("/api/v1/status %d %s: want trunks primary down, backup unchecked", code, body)
	}
	trunkUp := func(name string) float64 {
		code, body := apiDo(t, "GET", "http://"+apiAddr+"/metrics", strings.TrimSpace(string(raw)))
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
		if code != 200 || err != nil {
			t.Fatalf("/metrics %d: %v", code, err)
		}
		return metricValue(fams, "switchboard_trunk_up", map[string]string{"trunk": name})
	}
	out, err := exec.Command(sbctlBin(t), "-api", "http://"+apiAddr, "-token", strings.TrimSpace(string(raw)), "trunks").Output()
	if err != nil || !regexp.MustCompile(`(?m)^backup +unchecked\n^primary +down$`).Match(out) {
		t.Errorf("sbctl trunks: %v\n%s", err, out)
	}
	if up, backup := trunkUp("primary"), trunkUp("backup"); up != 0 || backup != -1 {
		t.Errorf("switchboard_trunk_up primary %v backup %v, want 0 and none (unchecked)", up, backup)
	}

	uasDone := sigSippUAS(t, dir, dnsCallee(t), "127.0.0.2", port, port+2)
	sippOK(t, "caller", trunkCaller(t, sb, dir, port, dnsCaller(t)))
	sippOK(t, "backup callee", <-uasDone)
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "caller")
	if c.Trunk != "backup" {
		t.Errorf("CDR trunk %q, want backup (primary is down)", c.Trunk)
	}

	responder()
	waitFor(t, 5*time.Second, "primary up again", logged("trunk up", 1))
	if up := trunkUp("primary"); up != 1 {
		t.Errorf("switchboard_trunk_up primary %v after it came back, want 1", up)
	}
}
