package provider

import (
	"context"
	"fmt"
)

// CheckSecretKey opens every stored server private key with the configured
// secret key and returns how many it opened. Restoring a backup (or
// changing BREAKWATER_SECRET_KEY) with the wrong secret would otherwise
// show only later, as every signed request failing; this says so at once.
func (s *Service) CheckSecretKey(ctx context.Context) (int, error) {
	servers, err := s.db.ListServers(ctx)
	if err != nil {
		return 0, fmt.Errorf("list servers: %w", err)
	}
	n := 0
	for _, srv := range servers {
		keys, err := s.db.AllKeys(ctx, srv.ID)
		if err != nil {
			return n, fmt.Errorf("list keys of server %s: %w", srv.ID, err)
		}
		for _, k := range keys {
			if _, err := s.box.Open(sealPurposeServerKey, k.PrivateKey); err != nil {
				return n, fmt.Errorf("key %d of server %s cannot be opened with this secret key: %w", k.ID, srv.ID, err)
			}
			n++
		}
	}
	return n, nil
}
