//! Writes a synthetic HR file and contractor file:
//! `cargo run --release -p synth --example generate -- <employees> <contractors> <seed> <dir>`.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [employees, contractors, seed, dir] = args.as_slice() else {
        return Err("usage: generate <employees> <contractors> <seed> <dir>".into());
    };
    let dir = std::path::Path::new(dir);
    let start = Instant::now();
    let population =
        synth::Population::generate(employees.parse()?, contractors.parse()?, seed.parse()?);
    let generated = start.elapsed();
    population.write_hr_csv(dir.join("hr.csv"))?;
    population.write_contractors_csv(dir.join("contractors.csv"))?;
    println!(
        "generated in {generated:?}, written in {:?}",
        start.elapsed() - generated
    );
    Ok(())
}
