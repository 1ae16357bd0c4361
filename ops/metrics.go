package ops

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchboard/switchboard/b2bua"
	"github.com/switchboard/switchboard/cdr"
)

// Metrics holds Switchboard's Prometheus metrics in a registry of its own
// (no global state): gauges read at scrape time, and counters and
// histograms that Observe feeds from each call's record.
type Metrics struct {
	reg *prometheus.Registry

	ended      *prometheus.CounterVec // disposition, status
	causes     *prometheus.CounterVec // q850
	answer     prometheus.Histogram
	duration   prometheus.Histogram
	transcoded prometheus.Counter
	packets    *prometheus.CounterVec // direction
	lost       *prometheus.CounterVec // leg
	mos        *prometheus.HistogramVec
	jitter     *prometheus.HistogramVec
}

// NewMetrics registers the metrics; stats is read at every scrape.
func NewMetrics(stats func() b2bua.Stats) *Metrics {
	const ns = "switchboard"
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.ended = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "calls_total",
		Help: "Calls ended, by disposition (answered, busy, no-answer, cancelled, failed) and the final SIP status sent to the caller."},
		[]string{"disposition", "status"})
	m.causes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "call_causes_total",
		Help: "Calls ended, by Q.850 cause (RFC 3398)."}, []string{"cause"})
	m.answer = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "call_answer_seconds",
		Help:    "Time from the INVITE to the answer, for answered calls.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60}})
	m.duration = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "call_billable_seconds",
		Help:    "Billable duration (answer to end) of answered calls.",
		Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600}})
	m.transcoded = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "calls_transcoded_total",
		Help: "Calls whose legs used different codecs."})
	m.packets = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rtp_packets_total",
		Help: "RTP packets relayed or processed, counted at each call's end, by direction (a_to_b: caller to callee)."},
		[]string{"direction"})
	m.lost = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rtp_lost_packets_total",
		Help: "RTP packets lost on the way to Switchboard, by leg (a: caller's, b: callee's), counted at each call's end."},
		[]string{"leg"})
	m.mos = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "call_mos",
		Help:    "Listening quality (E-model MOS, ITU-T G.107) of what each leg sent to Switchboard, per call.",
		Buckets: []float64{1.5, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.4}}, []string{"leg"})
	m.jitter = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "call_jitter_ms",
		Help:    "Mean interarrival jitter (RFC 3550 A.8) of each leg's RTP, per call, in milliseconds.",
		Buckets: []float64{1, 2, 5, 10, 20, 40, 80, 160}}, []string{"leg"})

	gauge := func(name, help string, f func(b2bua.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help},
			func() float64 { return f(stats()) })
	}
	qualityReports := func(result string, f func(b2bua.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "quality_reports_total",
			Help:        "RFC 6035 quality reports (PUBLISH vq-rtcpxr) by result: sent (accepted by the collector), failed (refused or unanswered), dropped (full queue).",
			ConstLabels: prometheus.Labels{"result": result}},
			func() float64 { return float64(f(stats())) })
	}
	m.reg.MustRegister(
		m.ended, m.causes, m.answer, m.duration, m.transcoded, m.packets, m.lost, m.mos, m.jitter,
		gauge("calls_active", "Calls in progress (ringing or up).", func(s b2bua.Stats) float64 { return float64(s.Calls) }),
		gauge("registrations", "Current registration bindings.", func(s b2bua.Stats) float64 { return float64(s.Registrations) }),
		gauge("media_endpoints", "Open media endpoints (two per bridged call).", func(s b2bua.Stats) float64 { return float64(s.MediaEndpoints) }),
		gauge("media_processing_streams", "Media directions on the processing path (transcoding, DTMF interworking, recording).", func(s b2bua.Stats) float64 { return float64(s.Processing) }),
		gauge("media_port_pairs", "Size of the RTP port pool in port pairs.", func(s b2bua.Stats) float64 { return float64(s.MediaPorts) }),
		gauge("draining", "1 once SIGTERM or the API stopped new calls.", func(s b2bua.Stats) float64 {
			if s.Draining {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "records_dropped_total",
			Help: "Call records the writer could not keep."}, func() float64 { return float64(stats().RecordsDropped) }),
		gauge("records_held", "Call records waiting in memory for a full or failing records directory.", func(s b2bua.Stats) float64 { return float64(s.RecordsHeld) }),
		qualityReports("sent", func(s b2bua.Stats) uint64 { return s.QualityReportsSent }),
		qualityReports("failed", func(s b2bua.Stats) uint64 { return s.QualityReportsFailed }),
		qualityReports("dropped", func(s b2bua.Stats) uint64 { return s.QualityReportsDropped }),
		newOverloadCollector(stats),
		newTrunkCollector(stats),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Observe counts one call's record. It runs once per call, on the call's
// goroutine.
func (m *Metrics) Observe(r *cdr.Record) {
	m.ended.WithLabelValues(r.Disposition, strconv.Itoa(r.Status)).Inc()
	if r.Q850Cause != 0 {
		m.causes.WithLabelValues(strconv.Itoa(r.Q850Cause)).Inc()
	}
	if !r.Answer.IsZero() {
		m.answer.Observe(r.Answer.Sub(r.Start).Seconds())
		m.duration.Observe(r.BillableS)
	}
	if r.Transcoded {
		m.transcoded.Inc()
	}
	m.packets.WithLabelValues("a_to_b").Add(float64(r.AToBPackets))
	m.packets.WithLabelValues("b_to_a").Add(float64(r.BToAPackets))
	if r.Quality == nil {
		return
	}
	for _, l := range r.Quality.Legs {
		rq := l.Received
		if rq.Lost > 0 {
			m.lost.WithLabelValues(l.Leg).Add(float64(rq.Lost))
		}
		if rq.Packets == 0 {
			continue
		}
		if rq.MOS > 0 {
			m.mos.WithLabelValues(l.Leg).Observe(rq.MOS)
		}
		m.jitter.WithLabelValues(l.Leg).Observe(rq.JitterMeanMs)
	}
}
