package serve

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// certReloader serves a certificate pair that is read again when either
// file changes: cert-manager and kubelet-mounted Secrets renew the files in
// place, and a server that kept the first pair would serve an expired one.
type certReloader struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	modCert time.Time
	modKey  time.Time
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if _, err := r.get(nil); err != nil {
		return nil, err
	}
	return r, nil
}

// get returns the current pair; a pair that fails to load after a change
// leaves the previous one in service.
func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ci, cerr := os.Stat(r.certFile)
	ki, kerr := os.Stat(r.keyFile)
	if r.cert != nil && (cerr != nil || kerr != nil || (ci.ModTime().Equal(r.modCert) && ki.ModTime().Equal(r.modKey))) {
		return r.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		if r.cert != nil {
			return r.cert, nil
		}
		return nil, fmt.Errorf("loading the TLS certificate %s and key %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert = &cert
	if cerr == nil && kerr == nil {
		r.modCert, r.modKey = ci.ModTime(), ki.ModTime()
	}
	return r.cert, nil
}
