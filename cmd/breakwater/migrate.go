package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/breakwater-fasp/breakwater/models"
)

// cmdMigrate creates or upgrades the schema; serve does the same at start,
// so running it separately is for deployments that migrate before rollout.
func cmdMigrate(ctx context.Context, args []string, io stdio) error {
	var status bool
	cfg, _, err := parseFlags("migrate", args, io, func(fs *flag.FlagSet) {
		fs.BoolVar(&status, "status", false, "only print the schema version, change nothing")
	})
	if err != nil {
		return err
	}
	db, err := models.Open(ctx, models.Options{URL: cfg.DatabaseURL, SQLitePath: cfg.sqlitePath()})
	if err != nil {
		return err
	}
	defer db.Close()
	if !status {
		ran, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(ran) == 0 {
			fmt.Fprintln(io.out, "nothing to migrate")
		}
		for _, v := range ran {
			fmt.Fprintf(io.out, "applied migration %d\n", v)
		}
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.out, "%s database at schema version %d (this binary: %d)\n", db.Dialect, v, models.LatestVersion())
	return nil
}
