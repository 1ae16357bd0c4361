// Package hep exports SIP messages to a Homer (or any HEP) collector in
// HEP version 3 (EEP), the encapsulation of the Homer project
// (https://github.com/sipcapture/HEP/blob/master/docs/HEP3_Network_Protocol_Specification_REV_36.pdf).
//
//	sipgo read filter / write hook ──► Exporter.Capture (copy into a packet)
//	media RTCP tap (b2bua/capture_rtcp.go) ─┘  (Proto RTCP, Correlation = the
//	                                            leg's Call-ID)
//	                                        │ bounded queue (drops counted)
//	                                        ▼
//	                               one sender goroutine ──UDP──► collector
//
// HEP is a small documented format with no maintained Go library (the
// sipcapture Go code lives inside heplify and heplify-server as internal
// packages), so it is hand-written here: a 6-byte header ("HEP3", total
// length) and type-length-value chunks (vendor 0, chunk type, length).
// Capture never blocks the SIP path: a full queue drops the packet and
// counts it.
package hep
