package sip

import (
	"sync"
	"time"
)

// msgWorkers runs each incoming message on its own goroutine, as sipgo
// always has (a handler may block, and client transactions block passing
// responses up), but reuses goroutines: one that finished a message waits
// for the next instead of exiting. A new goroutine per message costs its
// creation plus a stack copy or two as the handler's stack grows from
// 2 KiB; at thousands of messages a second that was a tenth of a B2BUA's
// CPU. Workers idle for workerIdle exit, so a burst leaves nothing behind.
//
// Switchboard patch (third_party/sipgo/PATCHES.md).
type msgWorkers struct {
	handle func(Message) // set once, before the first dispatch

	mu sync.Mutex
	// idle is a stack: the most recently used worker (warm stack) is
	// taken first, so idle is ordered by when each went idle, oldest at 0.
	idle    []*msgWorker
	reaping bool // a reap is scheduled
}

type msgWorker struct {
	ch   chan Message
	last time.Time // when it went idle
}

const workerIdle = 10 * time.Second

// dispatch hands msg to an idle worker, or to a new one.
func (w *msgWorkers) dispatch(msg Message) {
	w.mu.Lock()
	if n := len(w.idle); n > 0 {
		wk := w.idle[n-1]
		w.idle[n-1] = nil
		w.idle = w.idle[:n-1]
		w.mu.Unlock()
		wk.ch <- msg // buffered and empty: never blocks
		return
	}
	w.mu.Unlock()
	wk := &msgWorker{ch: make(chan Message, 1)}
	wk.ch <- msg
	go w.run(wk)
}

func (w *msgWorkers) run(wk *msgWorker) {
	for msg := range wk.ch {
		w.handle(msg)
		w.mu.Lock()
		wk.last = time.Now()
		w.idle = append(w.idle, wk)
		if !w.reaping {
			w.reaping = true
			time.AfterFunc(workerIdle, w.reap)
		}
		w.mu.Unlock()
	}
}

// reap ends the workers idle for longer than workerIdle.
func (w *msgWorkers) reap() {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	n := 0
	for n < len(w.idle) && now.Sub(w.idle[n].last) >= workerIdle {
		close(w.idle[n].ch)
		n++
	}
	rest := copy(w.idle, w.idle[n:])
	clear(w.idle[rest:])
	w.idle = w.idle[:rest]
	if len(w.idle) > 0 {
		time.AfterFunc(workerIdle, w.reap)
	} else {
		w.reaping = false
	}
}
