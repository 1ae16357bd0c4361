//go:build cgo

package recorder

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestOggOpusRecording: a ".ogg" recording is Ogg/Opus that an
// independent decoder (opus-tools' opusdec, from Debian) reads: 3 s of
// stereo, the caller's 440 Hz on the left and the callee's 1000 Hz on the
// right; the sidecar says format ogg and complete. Killed before Close,
// the pages written so far still decode.
func TestOggOpusRecording(t *testing.T) {
	opusdec, err := exec.LookPath("opusdec")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("opusdec (Debian opus-tools) is required under CI")
		}
		t.Skip("opusdec not installed")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "call.ogg")
	r := newRec(t, Config{Path: path, Rate: 16000})
	feed(r, 0, 3, true, true)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	meta, err := ReadSidecar(path)
	if err != nil || meta.Format != "ogg" || meta.Status != StatusComplete || meta.Seconds < 2.9 {
		t.Fatalf("sidecar %+v %v", meta, err)
	}
	wav := filepath.Join(dir, "decoded.wav")
	if out, err := exec.Command(opusdec, "--rate", "16000", path, wav).CombinedOutput(); err != nil {
		t.Fatalf("opusdec: %v\n%s", err, out)
	}
	a, err := ReadWAV(wav)
	if err != nil || a.Channels != 2 {
		t.Fatalf("decoded %v, %d channels", err, a.Channels)
	}
	if secs := float64(len(a.Samples)/2) / float64(a.Rate); secs < 2.9 || secs > 3.1 {
		t.Fatalf("decoded %.2f s, want 3", secs)
	}
	l, rt := a.Channel(0)[a.Rate/2:], a.Channel(1)[a.Rate/2:]
	if amp(l, a.Rate, 440) < 4000 || amp(l, a.Rate, 1000) > 800 {
		t.Errorf("left: 440 Hz %.0f, 1000 Hz %.0f: want the caller's tone only", amp(l, a.Rate, 440), amp(l, a.Rate, 1000))
	}
	if amp(rt, a.Rate, 1000) < 4000 || amp(rt, a.Rate, 440) > 800 {
		t.Errorf("right: 1000 Hz %.0f, 440 Hz %.0f: want the callee's tone only", amp(rt, a.Rate, 1000), amp(rt, a.Rate, 440))
	}

	// A killed writer: copy the file as it stands mid-recording.
	path2 := filepath.Join(dir, "killed.ogg")
	r2 := newRec(t, Config{Path: path2, Rate: 16000})
	feed(r2, 0, 2, true, true)
	defer r2.Close()
	var b []byte
	for i := 0; i < 100 && len(b) < 2000; i++ { // the writer flushes every 100 ms of audio
		b, _ = os.ReadFile(path2)
	}
	cut := filepath.Join(dir, "cut.ogg")
	if err := os.WriteFile(cut, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(opusdec, cut, filepath.Join(dir, "cut.wav")).CombinedOutput()
	if err != nil {
		t.Fatalf("opusdec on a recording cut mid-way: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`(\d+) bytes`).FindSubmatch(out); m != nil {
		if n, _ := strconv.Atoi(string(m[1])); n == 0 {
			t.Fatalf("nothing decoded from the cut file:\n%s", out)
		}
	}
}
