package mixer

import (
	"slices"
	"testing"
	"time"
)

func newRoom(t *testing.T, cfg Config) *Room {
	t.Helper()
	r, err := NewRoom(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestThreeHearTheOthersNotThemselves(t *testing.T) {
	for _, rate := range []int{16000, 48000} {
		r := newRoom(t, Config{Rate: rate})
		c := &clock{}
		a := join(t, r, "a", 16000, 440, 8000)
		b := join(t, r, "b", 16000, 1000, 8000)
		d := join(t, r, "c", 16000, 1800, 8000)
		run(t, r, c, 50, a, b, d)
		expectHears(t, "a", a, []float64{1000, 1800}, []float64{440})
		expectHears(t, "b", b, []float64{440, 1800}, []float64{1000})
		expectHears(t, "c", d, []float64{440, 1000}, []float64{1800})
	}
}

func TestFourthJoinsOneLeaves(t *testing.T) {
	var events []Event
	r := newRoom(t, Config{MaxTalkers: 4, Events: func(e Event) { events = append(events, e) }})
	c := &clock{}
	a := join(t, r, "a", 16000, 440, 8000)
	b := join(t, r, "b", 16000, 1000, 8000)
	d := join(t, r, "c", 16000, 1800, 8000)
	run(t, r, c, 30, a, b, d)
	e := join(t, r, "d", 16000, 2400, 8000)
	run(t, r, c, 30, a, b, d, e)
	expectHears(t, "a after d joined", a, []float64{1000, 1800, 2400}, []float64{440})
	expectHears(t, "d", e, []float64{440, 1000, 1800}, []float64{2400})

	b.p.Leave()
	b.p.Leave() // idempotent
	b.heard = nil
	run(t, r, c, 30, a, d, e)
	b.p.Write(b.src.next(320, 16000), 16000) // ignored after Leave
	run(t, r, c, 1, a, d, e)
	expectHears(t, "a after b left", a, []float64{1800, 2400}, []float64{440, 1000})
	expectHears(t, "d after b left", e, []float64{440, 1800}, []float64{1000, 2400})
	if r.Len() != 3 {
		t.Errorf("Len = %d, want 3", r.Len())
	}

	for _, m := range []*member{a, d, e} {
		m.p.Leave()
	}
	run(t, r, c, 1)
	if !r.Empty() {
		t.Error("room not empty after everyone left")
	}
	var kinds []string
	for _, ev := range events {
		if ev.Kind != EventTalkStart && ev.Kind != EventTalkStop {
			kinds = append(kinds, ev.Kind.String()+":"+ev.Participant)
		}
	}
	want := []string{"join:a", "join:b", "join:c", "join:d", "leave:b", "leave:a", "leave:c", "leave:d", "empty:"}
	if !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
	starts := 0
	for _, ev := range events {
		if ev.Kind == EventTalkStart {
			starts++
		}
	}
	if starts != 4 {
		t.Errorf("%d talk-start events, want 4 (one per tone)", starts)
	}
	if _, err := r.Join(ParticipantConfig{ID: "late", Rate: 8000}); err != nil {
		t.Errorf("Join on an empty (not closed) room: %v", err)
	}
	r.Close()
	if _, err := r.Join(ParticipantConfig{ID: "late", Rate: 8000}); err != ErrClosed {
		t.Errorf("Join on a closed room: %v, want ErrClosed", err)
	}
}

func TestNarrowbandWithWideband(t *testing.T) {
	r := newRoom(t, Config{Rate: 16000})
	c := &clock{}
	g := join(t, r, "pcmu", 8000, 440, 8000)
	w1 := join(t, r, "g722-a", 16000, 1000, 8000)
	w2 := join(t, r, "g722-b", 16000, 5000, 8000) // above the 8 kHz participant's band
	run(t, r, c, 50, g, w1, w2)
	expectHears(t, "pcmu", g, []float64{1000}, []float64{440})
	expectHears(t, "g722-a", w1, []float64{440, 5000}, []float64{1000})
	expectHears(t, "g722-b", w2, []float64{440, 1000}, []float64{5000})
	if n := len(g.heard); n != 50*160 {
		t.Errorf("8 kHz participant heard %d samples, want %d", n, 50*160)
	}
}

func TestOnlyLoudestMixed(t *testing.T) {
	r := newRoom(t, Config{MaxTalkers: 3})
	c := &clock{}
	ms := []*member{
		join(t, r, "p1", 16000, 500, 8000),
		join(t, r, "p2", 16000, 900, 6000),
		join(t, r, "p3", 16000, 1300, 4000),
		join(t, r, "p4", 16000, 1700, 2000),
		join(t, r, "p5", 16000, 2100, 1000),
		join(t, r, "listener", 16000, 0, 0),
	}
	run(t, r, c, 50, ms...)
	expectHears(t, "listener", ms[5], []float64{500, 900, 1300}, []float64{1700, 2100})
	expectHears(t, "p1", ms[0], []float64{900, 1300}, []float64{500, 1700, 2100})
	expectHears(t, "p4", ms[3], []float64{500, 900, 1300}, []float64{1700, 2100})
	// The loudest stops: the fourth loudest enters the mix.
	ms[0].src = nil
	run(t, r, c, 30, ms...)
	expectHears(t, "listener after p1 stopped", ms[5], []float64{900, 1300, 1700}, []float64{500, 2100})
}

func TestSumClipsInInt32(t *testing.T) {
	r := newRoom(t, Config{})
	c := &clock{}
	ms := []*member{join(t, r, "a", 16000, 0, 0), join(t, r, "b", 16000, 0, 0), join(t, r, "c", 16000, 0, 0), join(t, r, "listener", 16000, 0, 0)}
	frame := func(v int16) []int16 { return slices.Repeat([]int16{v}, 320) }
	check := func(name string, m *member, want int16) {
		t.Helper()
		for i, s := range m.heard {
			if s != want {
				t.Fatalf("%s: sample %d = %d, want %d", name, i, s, want)
			}
		}
		m.heard = nil
	}
	for _, tc := range []struct{ a, b, c, listener, toA int16 }{
		{30000, 30000, 0, 32767, 30000},     // clipped, not wrapped
		{-30000, -30000, 0, -32768, -30000}, // clipped, not wrapped
		{30000, 30000, -30000, 30000, 0},    // int32 sum: intermediate overflow cancels
		{1000, 2000, 3000, 6000, 5000},
	} {
		for range 3 {
			ms[0].p.Write(frame(tc.a), 16000)
			ms[1].p.Write(frame(tc.b), 16000)
			ms[2].p.Write(frame(tc.c), 16000)
			run(t, r, c, 1, ms...)
		}
		check("listener", ms[3], tc.listener)
		check("a", ms[0], tc.toA)
	}
}

func TestMute(t *testing.T) {
	var events []Event
	r := newRoom(t, Config{Events: func(e Event) { events = append(events, e) }})
	c := &clock{}
	a := join(t, r, "a", 16000, 440, 8000)
	b := join(t, r, "b", 8000, 1000, 8000)
	d := join(t, r, "c", 48000, 1800, 8000)
	run(t, r, c, 20, a, b, d)
	a.p.SetMuted(true)
	if !a.p.Muted() {
		t.Fatal("Muted() false after SetMuted(true)")
	}
	run(t, r, c, 30, a, b, d)
	expectHears(t, "b while a muted", b, []float64{1800}, []float64{440})
	expectHears(t, "c while a muted", d, []float64{1000}, []float64{440})
	expectHears(t, "a while muted", a, []float64{1000, 1800}, nil)
	if !slices.ContainsFunc(events, func(e Event) bool { return e.Kind == EventTalkStop && e.Participant == "a" }) {
		t.Error("no talk-stop event for the muted participant")
	}
	a.p.SetMuted(false)
	run(t, r, c, 30, a, b, d)
	expectHears(t, "c after unmute", d, []float64{440, 1000}, []float64{1800})
}

func TestDryInputContributesNothing(t *testing.T) {
	r := newRoom(t, Config{})
	c := &clock{}
	a := join(t, r, "a", 16000, 440, 8000)
	b := join(t, r, "b", 16000, 1000, 8000)
	run(t, r, c, 20, a, b)
	a.src = nil // a's tap stops
	run(t, r, c, 30, a, b)
	expectHears(t, "b", b, nil, []float64{440})
	if s := a.p.Stats(); s.InputDry < 30 {
		t.Errorf("InputDry = %d, want >= 30", s.InputDry)
	}
}

func TestOutputCallbackAndOverflow(t *testing.T) {
	r := newRoom(t, Config{})
	var sizes []int
	p, err := r.Join(ParticipantConfig{ID: "cb", Rate: 8000, Output: func(pcm []int16) { sizes = append(sizes, len(pcm)) }})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := r.Join(ParticipantConfig{ID: "slow reader", Rate: 16000})
	// 300 ms written at once: 100 ms kept.
	p.Write(make([]int16, 2400), 8000)
	c := &clock{}
	for range 10 {
		r.Tick(c.next())
	}
	if !slices.Equal(sizes, slices.Repeat([]int{160}, 10)) {
		t.Errorf("callback frame sizes %v, want ten of 160", sizes)
	}
	if s := p.Stats(); s.InputDropped != 1600 || s.InputDry != 5 {
		t.Errorf("stats %+v, want 1600 dropped, 5 dry", s)
	}
	if s := q.Stats(); s.OutputDropped != 5*320 {
		t.Errorf("slow reader dropped %d samples, want %d", s.OutputDropped, 5*320)
	}
	if n := q.Read(make([]int16, 4000)); n != 5*320 {
		t.Errorf("Read %d samples, want %d", n, 5*320)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{Rate: 8000}, {Rate: 44100}, {MaxTalkers: -1}} {
		if _, err := NewRoom(cfg); err == nil {
			t.Errorf("NewRoom(%+v) succeeded", cfg)
		}
	}
	r := newRoom(t, Config{})
	if _, err := r.Join(ParticipantConfig{Rate: 11025}); err == nil {
		t.Error("Join at 11025 Hz succeeded")
	}
	_ = time.Second
}

// tapRec is a Tap keeping what it was given.
type tapRec struct {
	pcm  []int16
	rate int
}

func (tr *tapRec) WritePCM(pcm []int16, rate int, _ time.Time) {
	tr.pcm, tr.rate = append(tr.pcm, pcm...), rate
}

// TestTapGetsWholeMix: the room's tap receives the mix of every talker
// (a room recording), at the room's rate, and nothing once removed.
func TestTapGetsWholeMix(t *testing.T) {
	r := newRoom(t, Config{Rate: 16000})
	tr := &tapRec{}
	r.SetTap(tr)
	c := &clock{}
	a := join(t, r, "a", 8000, 440, 8000)
	b := join(t, r, "b", 16000, 1000, 8000)
	d := join(t, r, "c", 8000, 1800, 8000)
	run(t, r, c, 50, a, b, d)
	if tr.rate != 16000 || len(tr.pcm) != 50*320 {
		t.Fatalf("tap got %d samples at %d Hz, want 16000 samples at 16000", len(tr.pcm), tr.rate)
	}
	x := tr.pcm[len(tr.pcm)-6400:]
	for _, f := range []float64{440, 1000, 1800} {
		if amp := toneAmp(x, 16000, f); amp < 1000 {
			t.Errorf("%v Hz amplitude %.0f in the room's mix, want > 1000", f, amp)
		}
	}
	r.SetTap(nil)
	run(t, r, c, 5, a, b, d)
	if len(tr.pcm) != 50*320 {
		t.Errorf("tap fed after SetTap(nil)")
	}
}
