package test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestQualityReportPublish: with a quality collector on the trunk, a call
// with media through it ends with one RFC 6035 PUBLISH (Event: vq-rtcpxr)
// per leg to the collector, a real SIP peer (a sipp UAS that answers each
// PUBLISH and logs it). Each report is a VQSessionReport: CallTerm for its
// leg's Call-ID with Switchboard's call id as LocalGroup and the leg's
// codec, and its packet loss and MOS are the call's quality record's.
func TestQualityReportPublish(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	uasPort := 15000 + 10*instance()
	vqPort := uasPort + 8
	sb := trunkSetup(t, uasPort, SBOptions{TrunkExtra: fmt.Sprintf(`, quality_collector: "sip:vq@127.0.0.4:%d"`, vqPort)})

	collector := writeScenario(t, "uas-vq", `<recv request="PUBLISH"/>`, `<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=vq[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>`)
	startSipp(t, dir, "-sf", collector, "-i", "127.0.0.4", "-p", strconv.Itoa(vqPort), "-trace_msg", "-message_file", filepath.Join(dir, "vq.log"))
	startSipp(t, dir, "-sf", scenario(t, "uas_trunk_echo.xml"), "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
		"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2), "-rtp_echo")
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))

	r := runSipp(t, dir, time.Minute, "-sf", scenario(t, "uac_auth_pcap.xml"), sb.Addr(),
		"-i", "127.0.0.3", "-p", strconv.Itoa(uasPort+4), "-mi", "127.0.0.3", "-mp", strconv.Itoa(uasPort+6),
		"-s", "95551234", "-key", "user", "1000", "-au", "1000", "-ap", sb.Users["1000"], "-m", "1")
	if r.Stats.Successful != 1 || r.Err != nil {
		t.Fatalf("sipp: %v\n%s", r.Err, tail(r.Out, 2500))
	}
	recs := sb.WaitCDRs(1, 10*time.Second)
	if len(recs) != 1 || recs[0].Quality == nil || len(recs[0].Quality.Legs) != 2 {
		t.Fatalf("want one CDR with a two-leg quality record, got %+v", recs)
	}
	rec := recs[0]

	var reports map[string]string // Call-ID -> body
	waitFor(t, 15*time.Second, "two quality reports at the collector", func() bool {
		reports = publishedReports(t, filepath.Join(dir, "vq.log"))
		return len(reports) >= 2
	})
	if len(reports) != 2 {
		t.Fatalf("the collector got %d reports, want one per leg (2)", len(reports))
	}
	for i, leg := range []struct{ name, callID string }{{"a", rec.ACallID}, {"b", rec.BCallID}} {
		body, ok := reports[leg.callID]
		if !ok {
			t.Errorf("no report for leg %s (Call-ID %s); got %v", leg.name, leg.callID, keys(reports))
			continue
		}
		f := vqFields(body)
		if !strings.HasPrefix(body, "VQSessionReport: CallTerm\r\n") {
			t.Errorf("leg %s report does not start with the CallTerm line:\n%s", leg.name, body)
		}
		if f["CallID"] != leg.callID || f["LocalGroup"] != rec.CallID || f["DialogID"] != leg.callID {
			t.Errorf("leg %s identities: CallID %q LocalGroup %q DialogID %q; want %s, %s", leg.name, f["CallID"], f["LocalGroup"], f["DialogID"], leg.callID, rec.CallID)
		}
		q := rec.Quality.Legs[i]
		recv, _ := q["received"].(map[string]any)
		num := func(k string) float64 { v, _ := recv[k].(float64); return v }
		if got, want := vqParam(t, f["SessionDesc"], "PD"), q["codec"]; got != want {
			t.Errorf("leg %s PD=%s, the record's codec is %v", leg.name, got, want)
		}
		if got, want := vqParam(t, f["PacketLoss"], "NLR"), fmt.Sprintf("%.1f", 100*num("loss_rate")); got != want {
			t.Errorf("leg %s NLR=%s, the record's loss is %s %%", leg.name, got, want)
		}
		if mos := num("mos"); mos > 0 {
			if got, want := vqParam(t, f["QualityEstimates"], "MOSCQ"), fmt.Sprintf("%.1f", mos); got != want {
				t.Errorf("leg %s MOSCQ=%s, the record's MOS is %s", leg.name, got, want)
			}
		} else {
			t.Errorf("leg %s: the record has no MOS although RTP flowed: %v", leg.name, recv)
		}
		if !regexp.MustCompile(`^IP=127\.0\.0\.\d+ PORT=\d+ SSRC=0x[0-9A-F]{8}$`).MatchString(f["RemoteAddr"]) {
			t.Errorf("leg %s RemoteAddr %q", leg.name, f["RemoteAddr"])
		}
	}
}

// publishedReports reads sipp's message log and returns the bodies of the
// PUBLISH requests it received, by the CallID the report names.
func publishedReports(t *testing.T, path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, chunk := range strings.Split(string(b), "PUBLISH sip:")[1:] {
		head, body, ok := strings.Cut(chunk, "\r\n\r\n")
		if !ok || !strings.Contains(head, "Content-Type: application/vq-rtcpxr") || !strings.Contains(head, "Event: vq-rtcpxr") {
			continue
		}
		n := regexp.MustCompile(`(?mi)^Content-Length:\s*(\d+)`).FindStringSubmatch(head)
		if n == nil {
			continue
		}
		if l, _ := strconv.Atoi(n[1]); l <= len(body) {
			out[vqFields(body[:l])["CallID"]] = body[:l]
		}
	}
	return out
}

// vqFields splits a report's "Name: value" lines (the first of each name:
// LocalMetrics come before RemoteMetrics).
func vqFields(body string) map[string]string {
	f := map[string]string{}
	for _, l := range strings.Split(body, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			if _, seen := f[k]; !seen {
				f[k] = strings.TrimSpace(v)
			}
		}
	}
	return f
}

// vqParam returns NAME's value in a "A=1 B=2" metrics line.
func vqParam(t *testing.T, line, name string) string {
	for _, p := range strings.Fields(line) {
		if k, v, ok := strings.Cut(p, "="); ok && k == name {
			return v
		}
	}
	t.Errorf("no %s in %q", name, line)
	return ""
}

func keys(m map[string]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}
