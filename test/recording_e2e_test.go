package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/recorder"
)

// recordingSB starts Switchboard with users 1000 and 1001 whose calls are
// recorded (routes: recording: all) into its own directory.
func recordingSB(t *testing.T, extra ...string) (*SB, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "recordings")
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"},
		Routes: `  - {match: '^1\d{3}$', to: user, recording: all}`,
		Extra:  fmt.Sprintf("services:\n  recordings: %s\n%s", dir, strings.Join(extra, ""))})
	return sb, dir
}

// channelTone asserts that channel ch of a recording holds want (not
// other) with at least minSec seconds of sound, and returns its length.
func channelTone(t *testing.T, a recorder.Audio, ch int, want, other float64, minSec float64) {
	t.Helper()
	raw := a.Channel(ch)
	x := make([]float64, len(raw))
	for i, v := range raw {
		x[i] = float64(v)
	}
	active := activePart(x, 500)
	if float64(len(active)) < minSec*float64(a.Rate) {
		t.Fatalf("channel %d: %d samples of sound (of %d), want %.1f s", ch, len(active), len(x), minSec)
	}
	f, share := dominant(active, a.Rate, want, other)
	if f != want || share < 0.9 {
		t.Fatalf("channel %d holds %.0f Hz (share %.2f), want %.0f Hz", ch, f, share, want)
	}
}

// TestRecordingStereo: a recorded call between two baresips with
// different tones, relayed (both PCMU) and transcoded (PCMU ↔ G.722):
// the WAV's left channel holds the caller's tone and the right the
// callee's, the file is 0600, and its sidecar matches the CDR.
func TestRecordingStereo(t *testing.T) {
	for _, c := range []struct{ name, bobMod, bobCodec string }{{"relay", "g711", "PCMU"}, {"transcode", "g722", "G722"}} {
		t.Run(c.name, func(t *testing.T) {
			sb, dir := recordingSB(t)
			alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true, Modules: []string{"g711"}})
			bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true, Modules: []string{c.bobMod}, Codecs: c.bobCodec})
			rec := toneCall(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d", sb.SIPPort), 4*time.Second)
			if rec.Recording == "" || filepath.Dir(rec.Recording) != dir || rec.RecordingState != "complete" {
				t.Fatalf("CDR recording %q state %q", rec.Recording, rec.RecordingState)
			}
			meta := waitSidecar(t, rec.Recording)
			if meta.Status != recorder.StatusComplete || meta.CDRID != rec.CallID || meta.CallID != rec.ACallID ||
				meta.Caller.Codec != rec.CodecA || meta.Callee.Codec != rec.CodecB || meta.Channels["left"] != "caller" ||
				meta.Seconds < 3 || meta.Seconds > rec.Billable+1 {
				t.Fatalf("sidecar %+v does not match CDR %+v", meta, rec)
			}
			st, err := os.Stat(rec.Recording)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("recording %v mode %v", err, st.Mode())
			}
			a, err := recorder.ReadWAV(rec.Recording)
			if err != nil || a.Channels != 2 {
				t.Fatalf("read %s: %v (%d channels)", rec.Recording, err, a.Channels)
			}
			channelTone(t, a, 0, 440, 1000, 3)
			channelTone(t, a, 1, 1000, 440, 3)
		})
	}
}

// TestRecordingOggOpus: with services.recording_format: ogg a recorded
// call between two baresips is an Ogg/Opus file that Debian's opusdec
// decodes to stereo with the caller's tone left and the callee's right;
// the sidecar says ogg and complete, the file is 0600.
func TestRecordingOggOpus(t *testing.T) {
	t.Parallel()
	opusdec := requireTool(t, "opusdec")
	sb, dir := recordingSB(t, "  recording_format: ogg\n  recording_rate: 16000\n")
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true, Modules: []string{"g711"}})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true, Modules: []string{"g711"}})
	rec := toneCall(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d", sb.SIPPort), 4*time.Second)
	if filepath.Dir(rec.Recording) != dir || filepath.Ext(rec.Recording) != ".ogg" || rec.RecordingState != "complete" {
		t.Fatalf("CDR recording %q state %q", rec.Recording, rec.RecordingState)
	}
	if meta := waitSidecar(t, rec.Recording); meta.Format != "ogg" || meta.Status != recorder.StatusComplete || meta.Seconds < 3 {
		t.Fatalf("sidecar %+v", meta)
	}
	if st, err := os.Stat(rec.Recording); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("recording %v mode %v", err, st.Mode())
	}
	wav := filepath.Join(t.TempDir(), "decoded.wav")
	if out, err := exec.Command(opusdec, "--rate", "16000", rec.Recording, wav).CombinedOutput(); err != nil {
		t.Fatalf("opusdec: %v\n%s", err, out)
	}
	a, err := recorder.ReadWAV(wav)
	if err != nil || a.Channels != 2 {
		t.Fatalf("decoded %s: %v (%d channels)", wav, err, a.Channels)
	}
	channelTone(t, a, 0, 440, 1000, 3)
	channelTone(t, a, 1, 1000, 440, 3)
}

// waitSidecar waits until the recording's sidecar says it is finished
// (the file is closed in the background after the call) and returns it.
func waitSidecar(t *testing.T, path string) recorder.Metadata {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := recorder.ReadSidecar(path)
		if err == nil && m.Status != recorder.StatusRecording {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("sidecar not finished: %+v %v", m, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// establish has caller dial uri and waits until both sides have the call.
func establish(t *testing.T, sb *SB, caller, callee *Baresip, uri string) {
	t.Helper()
	caller.Command("dial " + uri)
	if !caller.WaitEvent("CALL_ESTABLISHED", 10*time.Second) || !callee.WaitEvent("CALL_ESTABLISHED", 5*time.Second) {
		t.Fatalf("call not established\n%s", tail(sb.Output(), 3000))
	}
}

// TestRecordingSurvivesKill: Switchboard killed (SIGKILL) mid-call leaves
// a recording sox reads, with both parties' audio up to about the kill;
// the restart repairs it (sidecar marked cut).
func TestRecordingSurvivesKill(t *testing.T) {
	sox := requireTool(t, "sox")
	sb, dir := recordingSB(t)
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true, Modules: []string{"g711"}})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true, Modules: []string{"g711"}})
	establish(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d", sb.SIPPort))
	time.Sleep(3500 * time.Millisecond)
	sb.Signal(syscall.SIGKILL)
	<-sb.exited
	files, _ := filepath.Glob(filepath.Join(dir, "*.wav"))
	if len(files) != 1 {
		t.Fatalf("recordings %v", files)
	}
	out, err := exec.Command(sox, "--i", "-D", files[0]).CombinedOutput()
	secs, perr := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil || perr != nil || secs < 2 {
		t.Fatalf("sox --i -D %s: %q %v: want at least 2 s", files[0], out, err)
	}
	a, err := recorder.ReadWAV(files[0])
	if err != nil {
		t.Fatalf("read the killed recording: %v", err)
	}
	channelTone(t, a, 0, 440, 1000, 2)
	channelTone(t, a, 1, 1000, 440, 2)

	restartSB(t, sb)
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := recorder.ReadSidecar(files[0])
		if err == nil && m.Status == recorder.StatusCut {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sidecar after restart: %+v %v", m, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
