package b2bua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/vqreport"
)

// Quality reports (RFC 6035): every call's record, once written, is
// offered to the vqreport publisher with the collector its trunk (or
// quality_reports.collector) names; the publisher sends one PUBLISH per
// leg from its own goroutine through Publish below.

// startQualityReports gives the record sink its publisher. The collector
// is looked up in the configuration in force when the call ends, so a
// reload takes effect for the next call.
func (s *Server) startQualityReports() {
	s.records.vq = vqreport.New(s, s.log.With("component", "vqreport"))
	s.records.collector = func(r *cdr.Record) *sip.Uri {
		return s.policy.Load().cfg.QualityCollector(r.Trunk, r.SourceTrunk)
	}
}

// QualityReportCounts returns the quality reports accepted by collectors,
// refused or unanswered, and dropped on a full queue.
func (s *Server) QualityReportCounts() (sent, failed, dropped uint64) {
	if s.records.vq == nil {
		return 0, 0, 0
	}
	return s.records.vq.Counts()
}

// Publish implements vqreport.Sender: one out-of-dialog PUBLISH (RFC 3903)
// to collector, through the listeners' transports, answered with the
// final status.
func (s *Server) Publish(ctx context.Context, collector sip.Uri, event, contentType string, body []byte) (int, error) {
	transport := "UDP"
	if tp, ok := collector.UriParams.Get("transport"); ok && tp != "" {
		transport = strings.ToUpper(tp)
	}
	port := collector.Port
	if port == 0 {
		port = sip.DefaultPort(transport)
	}
	dest := net.JoinHostPort(strings.Trim(collector.Host, "[]"), strconv.Itoa(port))
	l, ok := s.listenerFor(transport, dest)
	if !ok {
		return 0, fmt.Errorf("no %s listener to reach %s", transport, dest)
	}
	leg := &Leg{
		Name:         "vq",
		CallID:       s.newCallID() + "@" + s.sipDomain(),
		LocalTag:     s.newTag(),
		LocalURI:     sip.Uri{Scheme: "sip", User: "switchboard", Host: s.sipDomain()},
		RemoteURI:    collector,
		RemoteTarget: collector,
		Transport:    transport,
		Dest:         dest,
		Laddr:        sipAddr(l.addr),
	}
	req := leg.buildRequest(s, sip.PUBLISH, 1)
	req.AppendHeader(sip.NewHeader("Event", event))
	req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	req.SetBody(body)
	tx, err := s.sender.request(ctx, req)
	if err != nil {
		return 0, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return int(res.StatusCode), nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return 0, err
			}
			return 0, errors.New("transaction ended without a response")
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
