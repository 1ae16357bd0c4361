package recorder

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sine returns n samples of a tone continuing from sample offset off.
func sine(n, off, rate int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(off+i)/float64(rate)))
	}
	return out
}

// amp returns the amplitude of frequency f in x (single-bin DFT).
func amp(x []int16, rate int, f float64) float64 {
	if len(x) == 0 {
		return 0
	}
	var re, im float64
	w := 2 * math.Pi * f / float64(rate)
	for n, v := range x {
		s, c := math.Sincos(w * float64(n))
		re += float64(v) * c
		im -= float64(v) * s
	}
	return 2 * math.Hypot(re, im) / float64(len(x))
}

func rms(x []int16) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(len(x), 1)))
}

var t0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func newRec(t *testing.T, cfg Config) *Recorder {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "call.wav")
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return t0 }
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// feed writes secs of 440 Hz (left, 8 kHz) and 1000 Hz (right, 16 kHz)
// in 20 ms frames timestamped from t0.
func feed(r *Recorder, from, secs float64, left, right bool) {
	for i := int(from * 50); i < int((from+secs)*50); i++ {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		if left {
			r.Left().Write(sine(160, i*160, 8000, 440, 8000), 8000, at)
		}
		if right {
			r.Right().Write(sine(320, i*320, 16000, 1000, 8000), 16000, at)
		}
	}
}

func TestChannelsAndSidecar(t *testing.T) {
	meta := Metadata{CallID: "abc@host", CDRID: "cdr-1", Caller: Party{Name: "sip:1000@x", Codec: "PCMU"}, Callee: Party{Name: "sip:1001@x", Codec: "G722"}}
	r := newRec(t, Config{Rate: 16000, Meta: meta})
	m, err := ReadSidecar(r.cfg.Path)
	if err != nil || m.Status != StatusRecording || m.CallID != "abc@host" {
		t.Fatalf("initial sidecar %+v, %v", m, err)
	}
	feed(r, 0, 2, true, true)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	a, err := ReadWAV(r.cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != 16000 || a.Channels != 2 {
		t.Fatalf("rate %d channels %d", a.Rate, a.Channels)
	}
	l, rt := a.Channel(0), a.Channel(1)
	if got := len(l); got < 31000 || got > 32100 {
		t.Errorf("%d samples per channel, want about 32000", got)
	}
	mid := func(x []int16) []int16 { return x[len(x)/4 : 3*len(x)/4] }
	if a440, a1k := amp(mid(l), 16000, 440), amp(mid(l), 16000, 1000); a440 < 7000 || a1k > 50 {
		t.Errorf("left: 440 Hz %.0f, 1000 Hz %.0f; want the caller's 440 only", a440, a1k)
	}
	if a440, a1k := amp(mid(rt), 16000, 440), amp(mid(rt), 16000, 1000); a1k < 7000 || a440 > 50 {
		t.Errorf("right: 440 Hz %.0f, 1000 Hz %.0f; want the callee's 1000 only", a440, a1k)
	}
	for _, p := range []string{r.cfg.Path, sidecarPath(r.cfg.Path)} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", p, st.Mode().Perm(), err)
		}
	}
	m, err = ReadSidecar(r.cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != StatusComplete || m.CDRID != "cdr-1" || m.Caller.Codec != "PCMU" || m.Callee.Name != "sip:1001@x" ||
		m.Channels["left"] != "caller" || m.Channels["right"] != "callee" || m.SampleRate != 16000 ||
		m.File != "call.wav" || !m.Start.Equal(t0) || m.End.IsZero() || math.Abs(m.Seconds-2) > 0.05 || m.DroppedFrames != 0 {
		t.Errorf("sidecar %+v", m)
	}
	if _, err := New(Config{Path: r.cfg.Path}); err == nil {
		t.Error("New over an existing recording succeeded")
	}
}

func TestGapAlignedBySilence(t *testing.T) {
	r := newRec(t, Config{})
	feed(r, 0, 1, true, true)
	feed(r, 1, 1, false, true) // caller silent (on hold) for a second
	feed(r, 2, 1, true, true)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := ReadWAV(r.cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	l, rt := a.Channel(0), a.Channel(1)
	if len(l) < 23800 {
		t.Fatalf("%d samples, want 3 s", len(l))
	}
	sec := func(x []int16, s float64) []int16 { return x[int((s+0.1)*8000):int((s+0.9)*8000)] }
	if v := rms(sec(l, 1)); v != 0 {
		t.Errorf("left during the gap: rms %.1f, want silence", v)
	}
	for _, s := range []float64{0, 2} {
		if a := amp(sec(l, s), 8000, 440); a < 7000 {
			t.Errorf("left second %v: 440 Hz %.0f, want the tone", s, a)
		}
	}
	for _, s := range []float64{0, 1, 2} {
		if a := amp(sec(rt, s), 8000, 1000); a < 7000 {
			t.Errorf("right second %v: 1000 Hz %.0f, want the tone", s, a)
		}
	}
}

func TestQueueOverflowNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	r := newRec(t, Config{Queue: 8, beforeWrite: func() error { <-release; return nil }})
	start := time.Now()
	feed(r, 0, 3, true, true) // 300 frames into a queue of 8, writer stuck
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("300 writes took %v with a stuck writer", d)
	}
	dropped := r.Stats().Dropped
	if dropped < 250 {
		t.Errorf("dropped %d frames, want most of 300", dropped)
	}
	close(release)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	m, _ := ReadSidecar(r.cfg.Path)
	if m.DroppedFrames != dropped || m.Status != StatusComplete {
		t.Errorf("sidecar dropped %d status %s, want %d complete", m.DroppedFrames, m.Status, dropped)
	}
}

func TestDiskErrorCutsRecording(t *testing.T) {
	writes := 0
	r := newRec(t, Config{beforeWrite: func() error {
		if writes++; writes > 5 {
			return errors.New("no space left on device")
		}
		return nil
	}})
	feed(r, 0, 3, true, true)
	err := r.Close()
	if err == nil || !strings.Contains(err.Error(), "no space") {
		t.Errorf("Close = %v, want the disk error", err)
	}
	m, _ := ReadSidecar(r.cfg.Path)
	if m.Status != StatusCut || !strings.Contains(m.CutReason, "no space") || m.DroppedFrames == 0 {
		t.Errorf("sidecar %+v, want cut with reason and drops", m)
	}
	if !r.Stats().Cut {
		t.Error("Stats().Cut false")
	}
	if _, err := ReadWAV(r.cfg.Path); err != nil {
		t.Errorf("cut file unreadable: %v", err)
	}
}

// TestKilledRecordingRepaired records in a child process, SIGKILLs it
// after about 2.5 s of audio, then repairs and reads the file.
func TestKilledRecordingRepaired(t *testing.T) {
	if path := os.Getenv("RECORDER_CHILD_PATH"); path != "" {
		r, err := New(Config{Path: path, Meta: Metadata{CallID: "killed"}})
		if err != nil {
			os.Exit(2)
		}
		start := time.Now()
		for i := 0; ; i++ { // real time: 20 ms frames stamped by the frame clock
			at := start.Add(time.Duration(i) * 20 * time.Millisecond)
			r.Left().Write(sine(160, i*160, 8000, 440, 8000), 8000, at)
			r.Right().Write(sine(160, i*160, 8000, 1000, 8000), 8000, at)
			time.Sleep(20 * time.Millisecond)
		}
	}
	path := filepath.Join(t.TempDir(), "killed.wav")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledRecordingRepaired$")
	cmd.Env = append(os.Environ(), "RECORDER_CHILD_PATH="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2700 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	before, err := ReadWAV(path)
	if err != nil {
		t.Fatalf("killed file unreadable before repair: %v", err)
	}
	if secs := float64(len(before.Samples)) / 2 / 8000; secs < 0.9 {
		t.Errorf("before repair the header covers %.2f s, want at least 1 s (header every second)", secs)
	}
	changed, err := Repair(path)
	if err != nil || !changed {
		t.Fatalf("Repair = %v, %v", changed, err)
	}
	if changed, err := Repair(path); err != nil || changed {
		t.Errorf("second Repair = %v, %v; want no change", changed, err)
	}
	a, err := ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	secs := float64(len(a.Channel(0))) / 8000
	if secs < 2 || secs > 2.8 {
		t.Errorf("repaired file holds %.2f s, want about 2.5", secs)
	}
	l := a.Channel(0)
	if v := amp(l[4000:12000], 8000, 440); v < 7000 {
		t.Errorf("repaired left channel: 440 Hz %.0f", v)
	}
	m, err := ReadSidecar(path)
	if err != nil || m.Status != StatusCut || m.CallID != "killed" {
		t.Errorf("repaired sidecar %+v, %v", m, err)
	}
	soxi, err := exec.LookPath("soxi")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("soxi missing in CI")
		}
		t.Skip("soxi not installed")
	}
	out, err := exec.Command(soxi, "-D", path).CombinedOutput()
	if err != nil {
		t.Fatalf("soxi: %v %s", err, out)
	}
	var d float64
	if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &d); err != nil || math.Abs(d-secs) > 0.01 {
		t.Errorf("soxi -D = %q, want %.2f", out, secs)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, cfg := range []Config{{Path: filepath.Join(dir, "a.wav"), Rate: 48000}, {Path: filepath.Join(dir, "a.mp3")}, {Path: filepath.Join(dir, "no/such/a.wav")}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

func TestWriteDoesNotAllocate(t *testing.T) {
	r := newRec(t, Config{Queue: 4})
	defer r.Close()
	pcm := sine(160, 0, 8000, 440, 8000)
	if n := testing.AllocsPerRun(1000, func() { r.Left().Write(pcm, 8000, t0) }); n != 0 {
		t.Errorf("Write allocates %.1f times", n)
	}
}

// TestMonoRoom: a one-channel recording (a conference room's mix) holds
// what Left was given, ignores Right, and lists the participants.
func TestMonoRoom(t *testing.T) {
	r := newRec(t, Config{Channels: 1, Meta: Metadata{Room: "3000"}})
	r.AddParticipant(Party{Name: "1000"})
	r.AddParticipant(Party{Name: "1001"})
	feed(r, 0, 2, true, true)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := ReadWAV(r.cfg.Path)
	if err != nil || a.Channels != 1 || a.Rate != 8000 {
		t.Fatalf("read: %+v %v", a, err)
	}
	x := a.Channel(0)
	if got := len(x); got < 15500 || got > 16100 {
		t.Errorf("%d samples, want about 16000", got)
	}
	mid := x[len(x)/4 : 3*len(x)/4]
	if a440, a1k := amp(mid, 8000, 440), amp(mid, 8000, 1000); a440 < 7000 || a1k > 50 {
		t.Errorf("440 Hz %.0f, 1000 Hz %.0f; want Left's 440 only", a440, a1k)
	}
	m, err := ReadSidecar(r.cfg.Path)
	if err != nil || m.Room != "3000" || m.Channels["mono"] != "room" || len(m.Participants) != 2 || m.Participants[1].Name != "1001" || math.Abs(m.Seconds-2) > 0.05 {
		t.Fatalf("sidecar %+v %v", m, err)
	}
	if _, err := New(Config{Path: filepath.Join(t.TempDir(), "x.wav"), Channels: 3}); err == nil {
		t.Error("3 channels accepted")
	}
}
