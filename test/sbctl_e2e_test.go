package test

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSbctlTestCall: `sbctl testcall` places a real call through
// Switchboard to a trunk that echoes RTP (sipp -rtp_echo), answering the
// digest challenge, sends a 1 kHz tone and reports what came back: the
// echoed tone at 1 kHz, over UDP, TLS (Switchboard's generated
// certificate, accepted with -tls-insecure; refused without it, since
// verification is on by default), WebSocket and secure WebSocket (RFC
// 7118); sbctl ping answers over ws and wss too. A wrong password is a
// failed probe.
func TestSbctlTestCall(t *testing.T) {
	requireTool(t, "sipp")
	sbctl := sbctlBin(t)
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	sb := trunkSetup(t, uasPort, SBOptions{TLS: true, WS: true})
	startSipp(t, dir, "-sf", scenario(t, "uas_trunk_echo.xml"), "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
		"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2), "-rtp_echo")
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))

	heard := regexp.MustCompile(`heard (\d+) Hz`)
	received := regexp.MustCompile(`received (\d+), (\d+) lost`)
	for _, tc := range []struct {
		name string
		args []string
		port int
	}{
		{"udp", nil, sb.SIPPort},
		{"tls", []string{"-transport", "tls", "-tls-insecure"}, sb.TLSPort},
		{"ws", []string{"-transport", "ws"}, sb.WSPort},
		{"wss", []string{"-transport", "wss", "-tls-insecure"}, sb.WSPort + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-user", "1000", "-password", sb.Users["1000"], "-tone", "1000", "-duration", "2s"}, tc.args...)
			args = append(args, "testcall", fmt.Sprintf("sip:95551234@127.0.0.1:%d", tc.port))
			out, err := exec.Command(sbctl, args...).CombinedOutput()
			t.Logf("sbctl %s:\n%s", strings.Join(args, " "), out)
			if err != nil {
				t.Fatalf("sbctl testcall failed: %v", err)
			}
			m := heard.FindSubmatch(out)
			if m == nil {
				t.Fatal("no tone heard")
			}
			if f, _ := strconv.Atoi(string(m[1])); f < 980 || f > 1020 {
				t.Errorf("heard %d Hz, sent 1000 Hz", f)
			}
			r := received.FindSubmatch(out)
			if n, _ := strconv.Atoi(string(r[1])); r == nil || n < 75 {
				t.Errorf("received %s packets of about 100 sent", r[1])
			}
		})
	}
	if recs := sb.WaitCDRs(4, 10*time.Second); len(recs) != 4 {
		t.Errorf("%d CDRs for the four test calls", len(recs))
	}
	for _, tr := range []struct {
		name string
		port int
	}{{"ws", sb.WSPort}, {"wss", sb.WSPort + 1}} {
		out, err := exec.Command(sbctl, "-transport", tr.name, "-tls-insecure", "-count", "1", "ping", fmt.Sprintf("sip:127.0.0.1:%d", tr.port)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "200") {
			t.Errorf("sbctl ping over %s: %v\n%s", tr.name, err, out)
		}
	}

	out, err := exec.Command(sbctl, "-transport", "tls", "-duration", "1s", "-user", "1000", "-password", sb.Users["1000"],
		"testcall", fmt.Sprintf("sip:95551234@127.0.0.1:%d", sb.TLSPort)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "certificate") {
		t.Errorf("a self-signed certificate was not refused by default: err %v\n%s", err, out)
	}
	out, err = exec.Command(sbctl, "-user", "1000", "-password", "wrong-password", "-duration", "1s",
		"testcall", "sip:95551234@"+sb.Addr()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refused") {
		t.Errorf("a wrong password did not fail the probe: err %v\n%s", err, out)
	}
}
