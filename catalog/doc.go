// Package catalog owns eolwatch's end-of-life data: the model (products,
// release cycles, dated releases), loading it from the project's own
// YAML/JSON format and from endoflife.date data, the embedded default
// catalog, version schemes that order every real-world spelling correctly,
// and the support verdict. It is pure: no network, no database.
package catalog
