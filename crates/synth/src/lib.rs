//! Synthetic populations for the demo and the benchmarks: an HR system's employees and a
//! contractor portal's export, deterministic from a seed.
//!
//! The people are made to exercise an identity engine: names with diacritics (José, Zoë,
//! Müller, Ólafsdóttir) and repeated names (so unique-UPN logic matters), a manager tree,
//! a few people on leave or terminated, frontline workers (`K`) beside office staff (`E`),
//! and contractors of whom some later became employees and share their work email, so the
//! engine can join the two sources by email.
//!
//! `synth` does no I/O beyond writing the files it is asked to write, and no randomness
//! beyond its own seeded generator: the same seed gives the same population on every
//! machine.

mod names;
mod rng;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use crate::names::{COMPANIES, COUNTRIES, DEPARTMENTS, FIRST_NAMES, LAST_NAMES, mail_part};
use crate::rng::SplitMix64;

/// The header of the HR file.
pub const HR_COLUMNS: [&str; 12] = [
    "EmployeeID",
    "FirstName",
    "LastName",
    "Email",
    "Department",
    "Title",
    "ManagerID",
    "Status",
    "HireDate",
    "Type",
    "Phone",
    "Country",
];

/// The header of the contractor portal's file.
pub const CONTRACTOR_COLUMNS: [&str; 7] = [
    "ContractorId",
    "GivenName",
    "FamilyName",
    "Email",
    "Mobile",
    "Company",
    "EndDate",
];

/// The mail domain of employees.
pub const EMPLOYEE_DOMAIN: &str = "contoso.com";

/// Where an employee stands in HR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Active,
    Leave,
    Terminated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "Active",
            Status::Leave => "Leave",
            Status::Terminated => "Terminated",
        }
    }
}

/// Office staff or frontline (kiosk) worker: decides the license in the demo (E3 vs F3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmployeeType {
    Employee,
    Kiosk,
}

impl EmployeeType {
    /// The letter HR writes: `E` or `K`.
    pub fn as_str(self) -> &'static str {
        match self {
            EmployeeType::Employee => "E",
            EmployeeType::Kiosk => "K",
        }
    }
}

/// A calendar date, kept as days since 1970-01-01 so a million of them stay small.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// The date of a civil year, month and day (proleptic Gregorian).
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Date {
        // Howard Hinnant's days_from_civil.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = month as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Date(era * 146_097 + doe - 719_468)
    }

    /// Year, month, day.
    pub fn ymd(self) -> (i32, u32, u32) {
        // Howard Hinnant's civil_from_days.
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i32::from(month <= 2);
        (year, month, day)
    }

    pub fn add_days(self, days: i32) -> Date {
        Date(self.0 + days)
    }
}

/// `YYYY-MM-DD`.
impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// One employee, compact: names and places are indexes into the built-in lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Employee {
    number: u32,
    first: u16,
    last: u16,
    /// 0 for `first.last@`, n for `first.last<n+1>@` (the n-th repeat of the name).
    mail_suffix: u32,
    department: u8,
    title: u8,
    manager: Option<u32>,
    status: Status,
    hire_date: Date,
    employee_type: EmployeeType,
    country: u8,
    phone: u32,
}

impl Employee {
    /// `E000123`.
    pub fn employee_id(&self) -> String {
        employee_id(self.number)
    }

    pub fn number(&self) -> u32 {
        self.number
    }

    pub fn first_name(&self) -> &'static str {
        FIRST_NAMES[usize::from(self.first)]
    }

    pub fn last_name(&self) -> &'static str {
        LAST_NAMES[usize::from(self.last)]
    }

    /// `first.last@contoso.com`, with a number after the name when the name repeats.
    pub fn email(&self) -> String {
        mail(
            self.first_name(),
            self.last_name(),
            self.mail_suffix,
            EMPLOYEE_DOMAIN,
        )
    }

    pub fn department(&self) -> &'static str {
        DEPARTMENTS[usize::from(self.department)].0
    }

    pub fn title(&self) -> &'static str {
        DEPARTMENTS[usize::from(self.department)].1[usize::from(self.title)]
    }

    /// The employee id of the manager; `None` at the top of the tree.
    pub fn manager_id(&self) -> Option<String> {
        self.manager.map(employee_id)
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn hire_date(&self) -> Date {
        self.hire_date
    }

    pub fn employee_type(&self) -> EmployeeType {
        self.employee_type
    }

    /// The office phone, in international form.
    pub fn phone(&self) -> String {
        phone(COUNTRIES[usize::from(self.country)].1, self.phone)
    }

    /// ISO 3166 alpha-2.
    pub fn country(&self) -> &'static str {
        COUNTRIES[usize::from(self.country)].0
    }
}

/// One contractor from the portal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contractor {
    number: u32,
    first: u16,
    last: u16,
    email: String,
    mobile: String,
    company: u8,
    end_date: Date,
    /// The employee this contractor became, if any.
    employee: Option<u32>,
}

impl Contractor {
    /// `C00042`.
    pub fn contractor_id(&self) -> String {
        format!("C{:05}", self.number)
    }

    pub fn given_name(&self) -> &'static str {
        FIRST_NAMES[usize::from(self.first)]
    }

    pub fn family_name(&self) -> &'static str {
        LAST_NAMES[usize::from(self.last)]
    }

    pub fn email(&self) -> &str {
        &self.email
    }

    pub fn mobile(&self) -> &str {
        &self.mobile
    }

    pub fn company(&self) -> &'static str {
        COMPANIES[usize::from(self.company)].0
    }

    pub fn end_date(&self) -> Date {
        self.end_date
    }

    /// The employee id of the employee this contractor became (same person, same email).
    pub fn converted_to(&self) -> Option<String> {
        self.employee.map(employee_id)
    }
}

fn employee_id(number: u32) -> String {
    format!("E{number:06}")
}

fn mail(first: &str, last: &str, suffix: u32, domain: &str) -> String {
    let (first, last) = (mail_part(first), mail_part(last));
    if suffix == 0 {
        format!("{first}.{last}@{domain}")
    } else {
        format!("{first}.{last}{}@{domain}", suffix + 1)
    }
}

fn phone(prefix: &str, number: u32) -> String {
    format!(
        "{prefix} {:03} {:04}",
        number / 10_000 % 1_000,
        number % 10_000
    )
}

/// Writing a file failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// An HR system's employees and a contractor portal's contractors.
#[derive(Clone, Debug)]
pub struct Population {
    employees: Vec<Employee>,
    contractors: Vec<Contractor>,
    rng: SplitMix64,
    next_employee: u32,
    /// How many employees have had each (first, last) name, for unique mail addresses.
    mail_counts: HashMap<(u16, u16), u32>,
    /// The latest hire date so far; new hires come after it.
    today: Date,
}

/// Share of contractors who became employees and share their work email.
const CONVERSION_RATE: f64 = 0.10;

impl Population {
    /// `employees` employees and `contractors` contractors, the same for the same seed.
    pub fn generate(employees: usize, contractors: usize, seed: u64) -> Population {
        let mut population = Population {
            employees: Vec::with_capacity(employees),
            contractors: Vec::with_capacity(contractors),
            rng: SplitMix64::new(seed),
            next_employee: 1,
            mail_counts: HashMap::new(),
            today: Date::from_ymd(2025, 6, 30),
        };
        let first_day = Date::from_ymd(1995, 1, 2);
        let span = population.today.0 - first_day.0;
        for i in 0..employees {
            // Managers come before their reports, so the tree has no cycles; drawing from
            // the first fifth keeps it a few levels deep, like an organisation chart.
            let manager =
                (i > 0).then(|| population.employees[population.rng.below((i / 5).max(1))].number);
            let hire_date = first_day.add_days(population.rng.below(span as usize + 1) as i32);
            let employee = population.new_employee(manager, hire_date);
            population.employees.push(employee);
        }
        population.add_contractors(contractors);
        population
    }

    pub fn employees(&self) -> &[Employee] {
        &self.employees
    }

    pub fn contractors(&self) -> &[Contractor] {
        &self.contractors
    }

    fn new_employee(&mut self, manager: Option<u32>, hire_date: Date) -> Employee {
        let rng = &mut self.rng;
        let (first, last) = (
            skewed(rng, FIRST_NAMES.len()),
            skewed(rng, LAST_NAMES.len()),
        );
        let count = self.mail_counts.entry((first, last)).or_insert(0);
        let mail_suffix = *count;
        *count += 1;
        let department = rng.below(DEPARTMENTS.len()) as u8;
        let title = rng.below(DEPARTMENTS[usize::from(department)].1.len()) as u8;
        let status = match rng.below(100) {
            0..=2 => Status::Leave,
            3..=5 => Status::Terminated,
            _ => Status::Active,
        };
        let employee_type = if rng.below(100) < 20 {
            EmployeeType::Kiosk
        } else {
            EmployeeType::Employee
        };
        let number = self.next_employee;
        self.next_employee += 1;
        Employee {
            number,
            first,
            last,
            mail_suffix,
            department,
            title,
            manager,
            status,
            hire_date,
            employee_type,
            country: rng.below(COUNTRIES.len()) as u8,
            phone: rng.below(10_000_000) as u32,
        }
    }

    fn add_contractors(&mut self, count: usize) {
        let conversions = ((count as f64 * CONVERSION_RATE) as usize).min(self.employees.len());
        let mut converted = self.rng.sample(self.employees.len(), conversions);
        converted.sort_unstable();
        // The converted ones are spread through the file, not bunched at its start.
        let mut slots: Vec<bool> = (0..count).map(|i| i < conversions).collect();
        self.rng.shuffle(&mut slots);
        let mut converted = converted.into_iter();
        let mut company_mail: HashMap<(u16, u16, u8), u32> = HashMap::new();
        for (i, is_converted) in slots.into_iter().enumerate() {
            let number = i as u32 + 1;
            let company = self.rng.below(COMPANIES.len()) as u8;
            let mobile = phone(
                COUNTRIES[self.rng.below(COUNTRIES.len())].1,
                self.rng.below(10_000_000) as u32,
            );
            let employee = if is_converted { converted.next() } else { None };
            let contractor = match employee {
                Some(e) => {
                    let employee = &self.employees[e];
                    // The contract ended the day before the person was hired.
                    Contractor {
                        number,
                        first: employee.first,
                        last: employee.last,
                        email: employee.email(),
                        mobile,
                        company,
                        end_date: employee.hire_date.add_days(-1),
                        employee: Some(employee.number),
                    }
                }
                None => {
                    let (first, last) = (
                        skewed(&mut self.rng, FIRST_NAMES.len()),
                        skewed(&mut self.rng, LAST_NAMES.len()),
                    );
                    let count = company_mail.entry((first, last, company)).or_insert(0);
                    let suffix = *count;
                    *count += 1;
                    Contractor {
                        number,
                        first,
                        last,
                        email: mail(
                            FIRST_NAMES[usize::from(first)],
                            LAST_NAMES[usize::from(last)],
                            suffix,
                            COMPANIES[usize::from(company)].1,
                        ),
                        mobile,
                        company,
                        end_date: self.today.add_days(30 + self.rng.below(700) as i32),
                        employee: None,
                    }
                }
            };
            self.contractors.push(contractor);
        }
    }

    /// Moves a share of employees: a new department, title and office phone each. Returns
    /// how many changed. The seed picks who, so two runs of a benchmark change the same people.
    pub fn change_fraction(&mut self, fraction: f64, seed: u64) -> usize {
        let mut rng = SplitMix64::new(seed);
        let count = ((self.employees.len() as f64 * fraction.clamp(0.0, 1.0)).round() as usize)
            .min(self.employees.len());
        for i in rng.sample(self.employees.len(), count) {
            let employee = &mut self.employees[i];
            let department =
                (usize::from(employee.department) + 1 + rng.below(DEPARTMENTS.len() - 1))
                    % DEPARTMENTS.len();
            employee.department = department as u8;
            employee.title = rng.below(DEPARTMENTS[department].1.len()) as u8;
            employee.phone = (employee.phone + 1 + rng.below(9_999_998) as u32) % 10_000_000;
        }
        count
    }

    /// Hires `n` people, each reporting to an existing employee. Returns their employee ids.
    pub fn hire(&mut self, n: usize) -> Vec<String> {
        self.today = self.today.add_days(1);
        let mut hired = Vec::with_capacity(n);
        for _ in 0..n {
            let manager = (!self.employees.is_empty())
                .then(|| self.employees[self.rng.below(self.employees.len())].number);
            let mut employee = self.new_employee(manager, self.today);
            employee.status = Status::Active;
            hired.push(employee.employee_id());
            self.employees.push(employee);
        }
        hired
    }

    /// Terminates `n` employees who are not terminated yet (fewer if there are not that
    /// many). Returns their employee ids.
    pub fn terminate(&mut self, n: usize) -> Vec<String> {
        let candidates: Vec<usize> = (0..self.employees.len())
            .filter(|&i| self.employees[i].status != Status::Terminated)
            .collect();
        let picked = self.rng.sample(candidates.len(), n.min(candidates.len()));
        picked
            .into_iter()
            .map(|c| {
                let employee = &mut self.employees[candidates[c]];
                employee.status = Status::Terminated;
                employee.employee_id()
            })
            .collect()
    }

    /// Removes `n` employees' rows, as when HR purges leavers. Only people who manage no one
    /// are removed, so no manager reference dangles. Returns their employee ids.
    pub fn remove(&mut self, n: usize) -> Vec<String> {
        let managers: HashSet<u32> = self.employees.iter().filter_map(|e| e.manager).collect();
        let candidates: Vec<usize> = (0..self.employees.len())
            .filter(|&i| !managers.contains(&self.employees[i].number))
            .collect();
        let picked = self.rng.sample(candidates.len(), n.min(candidates.len()));
        let removed: HashSet<u32> = picked
            .iter()
            .map(|&c| self.employees[candidates[c]].number)
            .collect();
        let ids = picked
            .iter()
            .map(|&c| self.employees[candidates[c]].employee_id())
            .collect();
        self.employees.retain(|e| !removed.contains(&e.number));
        ids
    }

    /// Writes the HR file (header [`HR_COLUMNS`]), streaming.
    pub fn write_hr_csv(&self, path: impl AsRef<Path>) -> Result<(), SynthError> {
        write_csv(path.as_ref(), &HR_COLUMNS, |writer| {
            for e in &self.employees {
                let manager = e.manager_id().unwrap_or_default();
                let (id, email, hired, phone) = (
                    e.employee_id(),
                    e.email(),
                    e.hire_date.to_string(),
                    e.phone(),
                );
                writer.write_record([
                    id.as_str(),
                    e.first_name(),
                    e.last_name(),
                    email.as_str(),
                    e.department(),
                    e.title(),
                    manager.as_str(),
                    e.status.as_str(),
                    hired.as_str(),
                    e.employee_type.as_str(),
                    phone.as_str(),
                    e.country(),
                ])?;
            }
            Ok(())
        })
    }

    /// Writes the contractor portal's file (header [`CONTRACTOR_COLUMNS`]), streaming.
    pub fn write_contractors_csv(&self, path: impl AsRef<Path>) -> Result<(), SynthError> {
        write_csv(path.as_ref(), &CONTRACTOR_COLUMNS, |writer| {
            for c in &self.contractors {
                let (id, end) = (c.contractor_id(), c.end_date.to_string());
                writer.write_record([
                    id.as_str(),
                    c.given_name(),
                    c.family_name(),
                    c.email(),
                    c.mobile(),
                    c.company(),
                    end.as_str(),
                ])?;
            }
            Ok(())
        })
    }
}

type CsvWriter = csv::Writer<BufWriter<File>>;

fn write_csv(
    path: &Path,
    header: &[&str],
    rows: impl FnOnce(&mut CsvWriter) -> Result<(), csv::Error>,
) -> Result<(), SynthError> {
    let error = |source: io::Error| SynthError::Write {
        path: path.to_owned(),
        source,
    };
    let file = File::create(path).map_err(error)?;
    let mut writer = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
    let csv_error = |e: csv::Error| error(io::Error::other(e));
    writer.write_record(header).map_err(csv_error)?;
    rows(&mut writer).map_err(csv_error)?;
    let mut file = writer
        .into_inner()
        .map_err(|e| error(io::Error::other(e.to_string())))?;
    file.flush().map_err(error)?;
    Ok(())
}

/// An index skewed towards the start of a list, so common names repeat even in a small
/// population, as they do in a real one.
fn skewed(rng: &mut SplitMix64, len: usize) -> u16 {
    rng.below(len).min(rng.below(len)) as u16
}

#[cfg(test)]
mod tests;
