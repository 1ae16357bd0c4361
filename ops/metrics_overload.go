package ops

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/b2bua"
)

// overloadCollector exports admission control (b2bua overload.go): new
// calls refused with 503 by reason, and the measures it decides on.
type overloadCollector struct {
	stats                               func() b2bua.Stats
	rejected, delay, setups, fds, fdLim *prometheus.Desc
}

var _ prometheus.Collector = (*overloadCollector)(nil)

func newOverloadCollector(stats func() b2bua.Stats) *overloadCollector {
	const ns = "switchboard"
	return &overloadCollector{
		stats: stats,
		rejected: prometheus.NewDesc(ns+"_overload_rejected_total",
			"New calls refused with a stateless 503 by admission control, by reason (queue_delay, setups, descriptors, ports).", []string{"reason"}, nil),
		delay: prometheus.NewDesc(ns+"_overload_queue_delay_seconds",
			"Standing delay of the SIP UDP receive queue (least over the last 100 ms).", nil, nil),
		setups: prometheus.NewDesc(ns+"_overload_setups",
			"INVITEs admitted and not yet finally answered.", nil, nil),
		fds: prometheus.NewDesc(ns+"_overload_open_fds",
			"Open descriptors at admission control's last sample.", nil, nil),
		fdLim: prometheus.NewDesc(ns+"_overload_fd_limit",
			"The descriptor limit (RLIMIT_NOFILE) admission control budgets with.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *overloadCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.rejected
	ch <- c.delay
	ch <- c.setups
	ch <- c.fds
	ch <- c.fdLim
}

// Collect implements prometheus.Collector.
func (c *overloadCollector) Collect(ch chan<- prometheus.Metric) {
	o := c.stats().Overload
	for reason, n := range o.Rejected {
		ch <- prometheus.MustNewConstMetric(c.rejected, prometheus.CounterValue, float64(n), reason)
	}
	ch <- prometheus.MustNewConstMetric(c.delay, prometheus.GaugeValue, o.QueueDelay.Seconds())
	ch <- prometheus.MustNewConstMetric(c.setups, prometheus.GaugeValue, float64(o.Setups))
	ch <- prometheus.MustNewConstMetric(c.fds, prometheus.GaugeValue, float64(o.FDs))
	ch <- prometheus.MustNewConstMetric(c.fdLim, prometheus.GaugeValue, float64(o.FDLimit))
}
