package sipdns

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRaceSilentFirst: the first address never connects (until its
// context is cancelled); the second is started after the delay and wins.
func TestRaceSilentFirst(t *testing.T) {
	cancelled := make(chan struct{})
	dial := func(ctx context.Context, i int) (string, error) {
		if i == 0 {
			<-ctx.Done()
			close(cancelled)
			return "", ctx.Err()
		}
		return "v4", nil
	}
	w, c, out := Race(context.Background(), 2, 20*time.Millisecond, dial, nil)
	if w != 1 || c != "v4" {
		t.Fatalf("winner %d %q, want 1 v4", w, c)
	}
	if !errors.Is(out[0], ErrSlower) || out[1] != nil {
		t.Errorf("outcome %v", out)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the overtaken attempt's context was not cancelled")
	}
}

// TestRaceFailureStartsNext: a failed attempt starts the next at once,
// without waiting for the delay (an hour here).
func TestRaceFailureStartsNext(t *testing.T) {
	refused := errors.New("refused")
	dial := func(_ context.Context, i int) (int, error) {
		if i < 2 {
			return 0, refused
		}
		return i, nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w, _, out := Race(context.Background(), 4, time.Hour, dial, nil)
		if w != 2 || out[0] != refused || out[1] != refused || out[2] != nil || !errors.Is(out[3], ErrNotTried) {
			t.Errorf("winner %d, outcome %v", w, out)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a failure did not start the next attempt at once")
	}
}

// TestRaceLateLoserDropped: an attempt that connects after another won
// is handed to drop.
func TestRaceLateLoserDropped(t *testing.T) {
	release := make(chan struct{})
	dropped := make(chan string, 1)
	dial := func(_ context.Context, i int) (string, error) {
		if i == 0 {
			<-release // ignores its context, connects late
			return "late", nil
		}
		return "first", nil
	}
	w, c, _ := Race(context.Background(), 2, time.Millisecond, dial, func(_ int, c string) { dropped <- c })
	close(release)
	if w != 1 || c != "first" {
		t.Fatalf("winner %d %q", w, c)
	}
	select {
	case d := <-dropped:
		if d != "late" {
			t.Errorf("dropped %q", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the late connection was never dropped")
	}
}

// TestRaceAllFail: no winner.
func TestRaceAllFail(t *testing.T) {
	dial := func(context.Context, int) (int, error) { return 0, errors.New("no") }
	if w, _, out := Race(context.Background(), 2, time.Millisecond, dial, nil); w != -1 || out[0] == nil || out[1] == nil {
		t.Errorf("winner %d outcome %v", w, out)
	}
	if w, _, _ := Race(context.Background(), 0, time.Millisecond, dial, nil); w != -1 {
		t.Errorf("winner %d of none", w)
	}
}

// TestRaceDeadline: an attempt still under way when ctx ends is marked
// with ctx's error, and the address never reached stays ErrNotTried.
func TestRaceDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	dial := func(ctx context.Context, _ int) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
	w, _, out := Race(ctx, 2, time.Hour, dial, nil)
	if w != -1 || !errors.Is(out[0], context.DeadlineExceeded) || !errors.Is(out[1], ErrNotTried) {
		t.Errorf("winner %d outcome %v", w, out)
	}
}
