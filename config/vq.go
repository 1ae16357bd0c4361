package config

import (
	"fmt"

	"github.com/emiago/sipgo/sip"
)

// QualityReports sends an RFC 6035 voice-quality report (PUBLISH, event
// vq-rtcpxr) per leg at the end of every call with media (package
// vqreport). A trunk's quality_collector overrides Collector for the calls
// that trunk carries.
type QualityReports struct {
	// Collector is the SIP URI reports are published to, e.g.
	// sip:collector@192.0.2.10:5060; empty: reports only for trunks with a
	// quality_collector.
	Collector string `yaml:"collector"`

	// ParsedCollector is Collector parsed (nil when empty); filled by
	// Validate.
	ParsedCollector *sip.Uri `yaml:"-"`
}

// qualityReports validates quality_reports.collector and every
// trunks[].quality_collector.
func (v *validator) qualityReports() {
	q := &v.c.QualityReports
	q.ParsedCollector = v.collectorURI("quality_reports.collector", q.Collector)
	for i := range v.c.Trunks {
		t := &v.c.Trunks[i]
		t.ParsedQualityCollector = v.collectorURI(fmt.Sprintf("trunks[%d].quality_collector", i), t.QualityCollector)
	}
}

func (v *validator) collectorURI(key, s string) *sip.Uri {
	if s == "" {
		return nil
	}
	u, err := parseSIPURI(s)
	if err != nil {
		v.errf(key, "%v", err)
		return nil
	}
	return &u
}

// QualityCollector returns where the report of a call carried by trunk
// (the destination trunk, else the source trunk; "" for neither) goes:
// that trunk's quality_collector, else quality_reports.collector; nil for
// no report.
func (c *Config) QualityCollector(trunk, sourceTrunk string) *sip.Uri {
	for _, name := range []string{trunk, sourceTrunk} {
		if name == "" {
			continue
		}
		if t, ok := c.Trunk(name); ok && t.ParsedQualityCollector != nil {
			return t.ParsedQualityCollector
		}
	}
	return c.QualityReports.ParsedCollector
}
