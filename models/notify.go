package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ChecksChannel is the PostgreSQL notification channel on which replicas
// announce the checks they store, so the others update their in-memory
// windows within a second.
const ChecksChannel = "breakwater_checks"

// Notify sends a notification on channel (PostgreSQL only; a no-op on
// SQLite, which has one process).
func (d *DB) Notify(ctx context.Context, channel, payload string) error {
	if d.Dialect != "postgres" {
		return nil
	}
	return d.WithContext(ctx).Exec("SELECT pg_notify(?, ?)", channel, payload).Error
}

// Listen delivers notifications on channel to fn until ctx ends,
// reconnecting after failures (a restarted PostgreSQL) with backoff. On
// SQLite it returns at once. onConnect runs after every (re)connection,
// so the caller can catch up on what it missed meanwhile.
func (d *DB) Listen(ctx context.Context, url, channel string, onConnect func(), fn func(payload string)) error {
	if d.Dialect != "postgres" {
		return nil
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := d.listenOnce(ctx, url, channel, onConnect, fn)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}
	return nil
}

func (d *DB) listenOnce(ctx context.Context, url, channel string, onConnect func(), fn func(string)) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, url)
	cancel()
	if err != nil {
		return fmt.Errorf("listen: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if onConnect != nil {
		onConnect()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("listen: wait: %w", err)
		}
		fn(n.Payload)
	}
}
