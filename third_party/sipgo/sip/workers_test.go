package sip

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testWorkers gives each test phase its own handler.
func testWorkers() (*msgWorkers, *atomic.Pointer[func(Message)]) {
	var cur atomic.Pointer[func(Message)]
	return &msgWorkers{handle: func(m Message) { (*cur.Load())(m) }}, &cur
}

// TestMsgWorkersReuse: sequential messages run on one reused goroutine;
// concurrent ones each get a goroutine (a blocked handler never delays
// another message); idle workers are reaped.
func TestMsgWorkersReuse(t *testing.T) {
	w, cur := testWorkers()
	var mu sync.Mutex
	seen := map[uint64]bool{}
	done := make(chan struct{}, 100)
	handle := func(Message) {
		mu.Lock()
		seen[curGoroutineID()] = true
		mu.Unlock()
		done <- struct{}{}
	}
	cur.Store(&handle)
	for i := 0; i < 50; i++ {
		w.dispatch(&Request{})
		<-done
		// Let the worker put itself back before the next message.
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
			w.mu.Lock()
			n := len(w.idle)
			w.mu.Unlock()
			if n == 1 {
				break
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	if len(seen) != 1 {
		t.Errorf("50 sequential messages ran on %d goroutines, want 1", len(seen))
	}

	// Two messages whose handlers block each other: both must run at once.
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	block := func(Message) { started <- struct{}{}; <-release }
	cur.Store(&block)
	w.dispatch(&Request{})
	w.dispatch(&Request{})
	for i := 0; i < 2; i++ {
		select {
		case <-started:
		case <-time.After(2 * time.Second):
			t.Fatal("a message waited for another message's handler")
		}
	}
	close(release)
}

func TestMsgWorkersReap(t *testing.T) {
	w, cur := testWorkers()
	done := make(chan struct{})
	fn := func(Message) { close(done) }
	cur.Store(&fn)
	w.dispatch(&Request{})
	<-done
	time.Sleep(20 * time.Millisecond)
	w.mu.Lock()
	if len(w.idle) != 1 {
		t.Fatalf("%d idle workers, want 1", len(w.idle))
	}
	w.idle[0].last = time.Now().Add(-2 * workerIdle) // as if idle long ago
	w.mu.Unlock()
	w.reap()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.idle) != 0 {
		t.Errorf("%d idle workers after reap, want 0", len(w.idle))
	}
}

// curGoroutineID parses the running goroutine's id from its stack header.
func curGoroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	var id uint64
	for _, c := range b[len("goroutine "):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
