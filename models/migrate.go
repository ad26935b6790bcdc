package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migration is one versioned schema step. Steps run in order, each in its own
// transaction, and are recorded in schema_migrations; a step never changes
// once released: later changes are new steps.
type migration struct {
	Version int
	Name    string
	Up      func(tx *gorm.DB) error
}

var migrations = []migration{
	{1, "initial schema", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&Server{}, &ServerKey{}, &Activation{}, &DebugCall{}, &SeenSignature{},
			&Check{}, &LearningState{}, &Usage{})
	}},
	// Steps stay sorted by version: Migrate runs them in slice order.
	{2, "campaigns, origin reputation and alerts", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&Campaign{}, &CampaignServer{}, &CampaignOrigin{}, &OriginReputation{},
			&AlertTarget{}, &Alert{}, &AlertDelivery{})
	}},
	{3, "mastodon webhooks and admin api", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&MastodonConnection{}, &MastodonEvent{}, &MastodonAction{})
	}},
	{4, "web interface accounts", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&Account{}, &Session{}, &PasswordReset{}, &LoginThrottle{}, &PendingRegistration{})
	}},
	// Every check paid for an index on campaign_id that no query used (the
	// campaign pages read campaign_servers and campaign_origins): one index
	// update fewer per stored check.
	{5, "drop the unused index on checks.campaign_id", func(tx *gorm.DB) error {
		if tx.Migrator().HasIndex(&Check{}, "idx_checks_campaign_id") {
			return tx.Migrator().DropIndex(&Check{}, "idx_checks_campaign_id")
		}
		return nil
	}},
}

// SchemaMigration records an applied migration.
type SchemaMigration struct {
	Version   int `gorm:"primaryKey;autoIncrement:false"`
	Name      string
	AppliedAt time.Time
}

// LatestVersion is the schema version this binary expects.
func LatestVersion() int { return migrations[len(migrations)-1].Version }

// Migrate applies every pending migration and returns the versions it
// applied. Several replicas may start at once: on PostgreSQL an advisory lock
// serialises them; on SQLite the file has one writer anyway.
func (d *DB) Migrate(ctx context.Context) ([]int, error) {
	db := d.WithContext(ctx)
	if d.Dialect == "postgres" {
		conn, err := d.DB.DB()
		if err != nil {
			return nil, err
		}
		c, err := conn.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: acquire connection: %w", err)
		}
		defer c.Close()
		if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
			return nil, fmt.Errorf("migrate: take advisory lock: %w", err)
		}
		defer c.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(727274)") //nolint:errcheck // released with the session anyway
	}
	if err := db.AutoMigrate(&SchemaMigration{}); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	var applied []SchemaMigration
	if err := db.Find(&applied).Error; err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	done := map[int]bool{}
	for _, a := range applied {
		done[a.Version] = true
	}
	for _, a := range applied {
		if a.Version > LatestVersion() {
			return nil, fmt.Errorf("migrate: database is at version %d, newer than this binary (%d); upgrade the binary", a.Version, LatestVersion())
		}
	}
	var ran []int
	for _, m := range migrations {
		if done[m.Version] {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := m.Up(tx); err != nil {
				return err
			}
			return tx.Create(&SchemaMigration{Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}).Error
		})
		if err != nil {
			return ran, fmt.Errorf("migrate: step %d (%s): %w", m.Version, m.Name, err)
		}
		ran = append(ran, m.Version)
	}
	return ran, nil
}

// SchemaVersion returns the highest applied migration, 0 for an empty database.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	if !d.Migrator().HasTable(&SchemaMigration{}) {
		return 0, nil
	}
	var v *int
	if err := d.WithContext(ctx).Model(&SchemaMigration{}).Select("MAX(version)").Scan(&v).Error; err != nil {
		return 0, err
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// PendingMigrations lists the steps not applied to this database, so that
// commands that do not migrate can refuse a database missing any step (not
// only a database whose newest step is old).
func (d *DB) PendingMigrations(ctx context.Context) ([]int, error) {
	var pending []int
	if !d.Migrator().HasTable(&SchemaMigration{}) {
		for _, m := range migrations {
			pending = append(pending, m.Version)
		}
		return pending, nil
	}
	var applied []SchemaMigration
	if err := d.WithContext(ctx).Find(&applied).Error; err != nil {
		return nil, err
	}
	done := map[int]bool{}
	for _, a := range applied {
		done[a.Version] = true
	}
	for _, m := range migrations {
		if !done[m.Version] {
			pending = append(pending, m.Version)
		}
	}
	return pending, nil
}
