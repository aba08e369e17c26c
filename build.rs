// The migrations are embedded into the binary (`diesel_migrations::embed_migrations!`); this
// makes cargo rebuild it when one is added or changed, instead of shipping the old set.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
