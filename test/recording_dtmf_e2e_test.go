package test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/recorder"
)

// toneStep is one stretch of a stepped tone: freq Hz (0: silence) for secs.
type toneStep struct {
	freq float64
	secs float64
}

// writeToneSteps writes a 16-bit mono WAV of tones one after the other.
func writeToneSteps(path string, rate int, amp float64, steps ...toneStep) error {
	var pcm []byte
	for _, s := range steps {
		n := int(s.secs * float64(rate))
		for i := range n {
			v := int16(amp * 32767 * math.Sin(2*math.Pi*s.freq*float64(i)/float64(rate)))
			pcm = binary.LittleEndian.AppendUint16(pcm, uint16(v))
		}
	}
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+len(pcm)))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1)
	binary.LittleEndian.PutUint16(h[22:], 1)
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(2*rate))
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(len(pcm)))
	return os.WriteFile(path, append(h, pcm...), 0o644)
}

// TestRecordingDTMFCode (issue 12): with services.recording_dtmf_start
// *1 and _stop *2, a call no policy records is recorded from the caller's
// *1 (RFC 4733 events from baresip) to its *2: the caller plays 440 Hz for
// its first 4 s and 700 Hz after, and keys *1 after the change, so the
// WAV's left channel holds 700 Hz and no 440 Hz, the right the callee's
// 1000 Hz, for about the 3 s between the codes; the CDR names the file.
func TestRecordingDTMFCode(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "recordings")
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"},
		Extra: fmt.Sprintf("services:\n  recordings: %s\n  recording_dtmf_start: '*1'\n  recording_dtmf_stop: '*2'\n", dir)})
	src := filepath.Join(t.TempDir(), "stepped.wav")
	if err := writeToneSteps(src, 8000, 0.3, toneStep{440, 4}, toneStep{700, 56}); err != nil {
		t.Fatal(err)
	}
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, Source: src, Register: true, Modules: []string{"g711"}})
	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true, Modules: []string{"g711"}})
	establish(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d", sb.SIPPort))
	// *1 past the caller's switch to 700 Hz, *2 three seconds later.
	for _, step := range []struct {
		after time.Duration
		cmd   string
	}{{5 * time.Second, "sndcode *1"}, {3 * time.Second, "sndcode *2"}, {2 * time.Second, "hangup"}} {
		time.Sleep(step.after)
		alice.Command(step.cmd)
	}
	if !bob.WaitEvent("CALL_CLOSED", 5*time.Second) {
		t.Fatal("callee did not see the hangup")
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Recording == "" || recs[0].RecordingState != "complete" {
		t.Fatalf("CDRs %+v, want one naming a complete recording\n%s\n%s", recs, tail(sb.Output(), 3000), tail(alice.out.String(), 2000))
	}
	meta := waitSidecar(t, recs[0].Recording)
	if meta.Seconds < 2 || meta.Seconds > 4.5 {
		t.Fatalf("sidecar %+v: want about the 3 s between the codes", meta)
	}
	a, err := recorder.ReadWAV(recs[0].Recording)
	if err != nil || a.Channels != 2 {
		t.Fatalf("read %s: %v", recs[0].Recording, err)
	}
	channelTone(t, a, 0, 700, 440, 2)
	channelTone(t, a, 1, 1000, 440, 2)
}
