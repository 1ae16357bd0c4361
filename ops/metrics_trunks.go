package ops

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/b2bua"
)

// trunkCollector exports each health-checked trunk's state (b2bua
// trunk_health.go): switchboard_trunk_up{trunk} is 1 while its OPTIONS
// pings are answered, 0 while it is held down. Trunks without
// ping_interval are not checked and not exported, so an alert on
// trunk_up == 0 means a real outage.
type trunkCollector struct {
	stats func() b2bua.Stats
	up    *prometheus.Desc
}

var _ prometheus.Collector = (*trunkCollector)(nil)

func newTrunkCollector(stats func() b2bua.Stats) *trunkCollector {
	return &trunkCollector{stats: stats, up: prometheus.NewDesc("switchboard_trunk_up",
		"1 while a health-checked trunk answers its OPTIONS pings, 0 while it is down.", []string{"trunk"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *trunkCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.up }

// Collect implements prometheus.Collector.
func (c *trunkCollector) Collect(ch chan<- prometheus.Metric) {
	for name, state := range c.stats().Trunks {
		v := 0.0
		switch state {
		case "up":
			v = 1
		case "down":
		default:
			continue // unchecked
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, v, name)
	}
}
