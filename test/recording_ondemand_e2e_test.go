package test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/recorder"
)

// TestRecordingOnDemandAPI (issues 12 and 14): a relayed call between two
// baresips that no policy records is recorded from the moment an
// operator asks (POST /api/v1/calls/{id}/recording, through sbctl) until
// it asks to stop: the WAV holds the caller's tone left and the callee's
// right for about the time between the two requests, not the whole call;
// a second start is refused (409) both while recording and after the
// stop; the CDR names the file with state complete.
func TestRecordingOnDemandAPI(t *testing.T) {
	t.Parallel()
	sbctl := sbctlBin(t)
	dir := filepath.Join(t.TempDir(), "recordings")
	apiAddr := fmt.Sprintf("127.0.0.1:%d", 15000+10*instance())
	base := "http://" + apiAddr
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"},
		Extra: fmt.Sprintf("services:\n  recordings: %s\napi:\n  listen: %s\n", dir, apiAddr)})
	waitPort(t, "tcp", apiAddr)
	raw, err := os.ReadFile(filepath.Join(sb.Dir, "state", "api_token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true, Modules: []string{"g711"}})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true, Modules: []string{"g711"}})
	establish(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d", sb.SIPPort))

	code, body := apiDo(t, "GET", base+"/api/v1/calls", token)
	var calls []struct {
		ID string `json:"id"`
	}
	if code != 200 || json.Unmarshal(body, &calls) != nil || len(calls) != 1 {
		t.Fatalf("calls: %d %s", code, body)
	}
	id := calls[0].ID
	time.Sleep(time.Second)
	sbctlRun := func(args ...string) (string, error) {
		out, err := exec.Command(sbctl, append([]string{"-api", base, "-token", token}, args...)...).Output()
		return string(out), err
	}
	out, err := sbctlRun("record", id, "start")
	var st struct {
		Recording string `json:"recording"`
		Active    bool   `json:"active"`
	}
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || !st.Active || filepath.Dir(st.Recording) != dir {
		t.Fatalf("sbctl record start: %v: %s", err, out)
	}
	if code, body := apiDo(t, "POST", base+"/api/v1/calls/"+id+"/recording", token); code != 409 {
		t.Errorf("second start while recording: %d %s, want 409", code, body)
	}
	time.Sleep(3 * time.Second)
	if out, err := sbctlRun("record", id, "stop"); err != nil || !strings.Contains(out, `"active": false`) {
		t.Fatalf("sbctl record stop: %v: %s", err, out)
	}
	if code, body := apiDo(t, "POST", base+"/api/v1/calls/"+id+"/recording", token); code != 409 {
		t.Errorf("start after the stop: %d %s, want 409", code, body)
	}
	time.Sleep(2 * time.Second)
	alice.Command("hangup")
	if !bob.WaitEvent("CALL_CLOSED", 5*time.Second) {
		t.Fatal("callee did not see the hangup")
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Recording != st.Recording || recs[0].RecordingState != "complete" {
		t.Fatalf("CDRs %+v, want recording %s complete", recs, st.Recording)
	}
	meta := waitSidecar(t, st.Recording)
	// Recorded for the 3 s between start and stop of a call of about 6 s.
	if meta.Status != recorder.StatusComplete || meta.Seconds < 2.5 || meta.Seconds > 4.5 {
		t.Fatalf("sidecar %+v: want complete, about 3 s", meta)
	}
	a, err := recorder.ReadWAV(st.Recording)
	if err != nil || a.Channels != 2 {
		t.Fatalf("read %s: %v", st.Recording, err)
	}
	channelTone(t, a, 0, 440, 1000, 2.5)
	channelTone(t, a, 1, 1000, 440, 2.5)
	if secs := float64(len(a.Channel(0))) / float64(a.Rate); secs > 4.5 {
		t.Fatalf("recording is %.1f s long: it did not start and stop on demand", secs)
	}
}
