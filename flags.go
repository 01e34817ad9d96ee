package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// envDefault lets every flag be set by POSTERN_<FLAG> as well.
func envDefault(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "POSTERN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	return err
}

// parseFlags applies environment defaults, then the command line, which wins.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := envDefault(fs); err != nil {
		return err
	}
	return fs.Parse(args)
}
