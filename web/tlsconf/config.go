package tlsconf

import "crypto/tls"

// ServerConfig is the TLS configuration every listener uses: TLS 1.2 and
// up, certificates from getCert, and nextProtos on top of HTTP/2 and 1.1.
func ServerConfig(getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error), nextProtos ...string) *tls.Config {
	protos := []string{"h2", "http/1.1"}
	for _, p := range nextProtos {
		if p != "h2" && p != "http/1.1" {
			protos = append(protos, p)
		}
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: getCert, NextProtos: protos}
}
