package vqreport

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
)

// Sender sends one PUBLISH of body to collector and returns the final
// status (b2bua.Server implements it over its SIP transports).
type Sender interface {
	Publish(ctx context.Context, collector sip.Uri, event, contentType string, body []byte) (int, error)
}

// queueLen bounds the reports waiting to be sent; beyond it they are
// dropped (and counted): a slow collector never holds a call.
const queueLen = 1024

// sendTimeout bounds one PUBLISH transaction.
const sendTimeout = 10 * time.Second

// Publisher sends the reports of finished calls from one goroutine.
type Publisher struct {
	send    Sender
	log     *slog.Logger
	queue   chan job
	stop    chan struct{}
	done    sync.WaitGroup
	sent    atomic.Uint64
	failed  atomic.Uint64
	dropped atomic.Uint64
}

type job struct {
	collector sip.Uri
	rec       cdr.Record
}

// New starts a publisher sending through s.
func New(s Sender, log *slog.Logger) *Publisher {
	p := &Publisher{send: s, log: log, queue: make(chan job, queueLen), stop: make(chan struct{})}
	p.done.Add(1)
	go p.run()
	return p
}

// Observe queues the reports of rec's legs for collector; a call without
// a quality record (no media) has nothing to report. It never blocks.
func (p *Publisher) Observe(collector sip.Uri, rec *cdr.Record) {
	if rec.Quality == nil || len(rec.Quality.Legs) == 0 {
		return
	}
	select {
	case p.queue <- job{collector: collector, rec: *rec}:
	default:
		p.dropped.Add(1)
	}
}

// Counts returns the reports sent (2xx), failed and dropped so far.
func (p *Publisher) Counts() (sent, failed, dropped uint64) {
	return p.sent.Load(), p.failed.Load(), p.dropped.Load()
}

// Close sends what is queued (each within its timeout) and stops.
func (p *Publisher) Close() {
	close(p.stop)
	p.done.Wait()
}

func (p *Publisher) run() {
	defer p.done.Done()
	for {
		select {
		case j := <-p.queue:
			p.publish(j)
		case <-p.stop:
			for {
				select {
				case j := <-p.queue:
					p.publish(j)
				default:
					return
				}
			}
		}
	}
}

func (p *Publisher) publish(j job) {
	for _, leg := range j.rec.Quality.Legs {
		ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
		status, err := p.send.Publish(ctx, j.collector, Event, ContentType, Format(&j.rec, leg))
		cancel()
		if err != nil || status < 200 || status > 299 {
			p.failed.Add(1)
			p.log.Warn("quality report not accepted", "call_id", j.rec.CallID, "leg", leg.Leg,
				"collector", j.collector.String(), "status", status, "error", err)
			continue
		}
		p.sent.Add(1)
	}
}
