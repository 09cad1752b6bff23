// Command gencountries writes the English catalogue of country names
// (i18n/locales/countries.en.toml) from models.Countries, so translators get
// one message id per country ("country.AT") and the list has one source.
package main

import (
	"fmt"
	"os"

	"focalpoint/models"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gencountries OUTPUT.toml")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], []byte(models.CountryCatalogue()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
