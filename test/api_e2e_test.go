package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// sbctlBin is the command-line tool built beside the switchboard binary.
func sbctlBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(filepath.Dir(binPath), "sbctl")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("sbctl not built beside SWITCHBOARD_BIN (make build builds both): %v", err)
	}
	return bin
}

// apiDo sends an API request with the token and returns status and body.
func apiDo(t *testing.T, method, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestAPICallsHangupMetrics: with api.listen set and no token configured,
// Switchboard generates one in its state directory; the API refuses a
// request without it; an answered call through the trunk shows in
// /api/v1/calls with its codecs; sbctl hangs it up (both sipp legs get
// BYE, the CDR says switchboard/api); /metrics, parsed by Prometheus's
// own text parser, counts the call by disposition and status and its
// answer time; sbctl pings Switchboard with OPTIONS; drain through the
// API stops the process.
func TestAPICallsHangupMetrics(t *testing.T) {
	requireTool(t, "sipp")
	sbctl := sbctlBin(t)
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	apiAddr := fmt.Sprintf("127.0.0.1:%d", 15000+10*instance())
	base := "http://" + apiAddr
	sb := trunkSetup(t, uasPort, SBOptions{Extra: "api:\n  listen: " + apiAddr + "\n"})
	waitPort(t, "tcp", apiAddr)
	tokenFile := filepath.Join(sb.Dir, "state", "api_token")
	raw, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatalf("no generated token: %v", err)
	}
	token := strings.TrimSpace(string(raw))
	if len(token) < 32 {
		t.Fatalf("generated token %q is too short", token)
	}
	if fi, _ := os.Stat(tokenFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	for _, tok := range []string{"", "wrong-token-wrong-token"} {
		if code, _ := apiDo(t, "GET", base+"/api/v1/calls", tok); code != 401 {
			t.Errorf("calls with token %q: %d, want 401", tok, code)
		}
	}
	if code, _ := apiDo(t, "GET", base+"/metrics", ""); code != 401 {
		t.Errorf("metrics without token: %d, want 401 (metrics_open is off)", code)
	}

	uas := writeScenario(t, "uas-api", `<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-api", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	uasDone, uacDone := make(chan Sipp, 1), make(chan Sipp, 1)
	go func() {
		uasDone <- runSipp(t, dir, 60*time.Second, "-sf", uas, "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
			"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2), "-m", "1", "-timeout", "30s", "-timeout_error")
	}()
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))
	go func() {
		uacDone <- runSipp(t, dir, 60*time.Second, "-sf", uac, sb.Addr(), "-i", "127.0.0.3", "-p", strconv.Itoa(uasPort+4),
			"-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6), "-s", "95551234", "-key", "user", "1000",
			"-au", "1000", "-ap", sb.Users["1000"], "-m", "1", "-timeout", "30s", "-timeout_error")
	}()
	if !sb.waitOutput("msg=answered", 10*time.Second) {
		t.Fatal("the call was not answered within 10s")
	}

	code, body := apiDo(t, "GET", base+"/api/v1/calls", token)
	var calls []struct {
		ID, Dialled, Caller, State, Trunk string
		CodecA                            string `json:"codec_a"`
		CodecB                            string `json:"codec_b"`
	}
	if err := json.Unmarshal(body, &calls); code != 200 || err != nil {
		t.Fatalf("calls: %d %v\n%s", code, err, body)
	}
	if len(calls) != 1 {
		t.Fatalf("calls: %d listed, want 1\n%s", len(calls), body)
	}
	c := calls[0]
	if c.Dialled != "95551234" || c.Caller != "1000" || c.Trunk != "carrier" || c.CodecA == "" || c.CodecB == "" {
		t.Errorf("listed call %+v: want dialled 95551234, caller 1000, trunk carrier, both codecs", c)
	}
	if code, _ := apiDo(t, "GET", base+"/api/v1/calls/"+c.ID, token); code != 200 {
		t.Errorf("GET the call by id: %d", code)
	}
	if code, _ := apiDo(t, "DELETE", base+"/api/v1/calls/no-such-call", token); code != 404 {
		t.Errorf("hangup of an unknown call: %d, want 404", code)
	}

	out, err := exec.Command(sbctl, "-api", base, "-token-file", tokenFile, "hangup", c.ID).CombinedOutput()
	if err != nil {
		t.Fatalf("sbctl hangup: %v\n%s", err, out)
	}
	for name, ch := range map[string]chan Sipp{"caller": uacDone, "callee": uasDone} {
		select {
		case r := <-ch:
			if r.Stats.Successful != 1 || r.Err != nil {
				t.Errorf("%s sipp did not end with our BYE: %v\n%s", name, r.Err, tail(r.Out, 2500))
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s got no BYE within 20 s of the hangup", name)
		}
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 {
		t.Fatalf("%d CDRs, want 1", len(recs))
	}
	if r := recs[0]; r.HangupSide != "switchboard" || r.HangupReason != "api" || r.Status != 200 {
		t.Errorf("CDR side=%q reason=%q status=%d, want switchboard/api/200", r.HangupSide, r.HangupReason, r.Status)
	}

	code, body = apiDo(t, "GET", base+"/metrics", token)
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("metrics do not parse as Prometheus text: %v", err)
	}
	if v := metricValue(fams, "switchboard_calls_total", map[string]string{"disposition": "answered", "status": "200"}); v != 1 {
		t.Errorf("switchboard_calls_total{answered,200} = %v, want 1", v)
	}
	if v := metricValue(fams, "switchboard_calls_active", nil); v != 0 {
		t.Errorf("switchboard_calls_active = %v after the call, want 0", v)
	}
	if v := metricValue(fams, "switchboard_call_answer_seconds", nil); v != 1 {
		t.Errorf("switchboard_call_answer_seconds count = %v, want 1", v)
	}
	if v := metricValue(fams, "switchboard_call_causes_total", map[string]string{"cause": "16"}); v != 1 {
		t.Errorf("switchboard_call_causes_total{16} = %v, want 1", v)
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}

	if code, body := apiDo(t, "POST", base+"/api/v1/reload", token); code != 200 {
		t.Errorf("reload: %d %s", code, body)
	}
	out, err = exec.Command(sbctl, "-count", "1", "ping", "sip:"+sb.Addr()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": 200 OK in ") {
		t.Errorf("sbctl ping: %v\n%s", err, out)
	}

	// sbctl as a SIP probe: REGISTER with digest works with the right
	// password and fails with a wrong one.
	out, err = exec.Command(sbctl, "-password", sb.Users["1001"], "register", "sip:1001@"+sb.Addr()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "as 1001: 200 OK") {
		t.Errorf("sbctl register: %v\n%s", err, out)
	}
	if out, err := exec.Command(sbctl, "-password", "wrong", "register", "sip:1001@"+sb.Addr()).CombinedOutput(); err == nil {
		t.Errorf("sbctl register with a wrong password succeeded:\n%s", out)
	}

	if code, _ := apiDo(t, "POST", base+"/api/v1/drain", token); code != 202 {
		t.Errorf("drain: %d, want 202", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sb.Alive() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if sb.Alive() {
		t.Error("still running 10 s after the API drain")
	}
}

// metricValue is a counter's or gauge's value, or a histogram's sample
// count, of the first series of name whose labels include want; -1 when
// none matches.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}
