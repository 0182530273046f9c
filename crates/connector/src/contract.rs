//! The contract suite: properties every connector must have against its real backend.
//!
//! A connector's integration tests implement [`ContractHarness`] (how to put objects into the
//! system, change and delete them behind the connector's back, and make a connector) and call
//! [`run`]; writable connectors also call [`run_export`]. Each property starts from a freshly
//! seeded system, so one failure does not cascade; the [`ContractReport`] lists every failed
//! property with what was seen, and [`ContractReport::assert_passed`] turns it into one panic.
//!
//! The suite is plain `async` code: it chooses no runtime, so a test drives it with whatever
//! its backend needs (`#[tokio::test]` for most).
//!
//! The suite finds its objects by a *key attribute* the harness names (an employee number,
//! a `uid`), not by anchor, because many systems assign anchors themselves (`objectGUID`,
//! Graph `id`); it then checks that the anchors are stable.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use model::{
    Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, ObjectType, Value,
    ValueChange,
};

use crate::{
    Connector, ExportId, ExportOutcome, ExportRequest, ExportResult, Exporter, ImportEntry,
    ImportMode, ImportPage, ImportRequest, ImportedObject, Watermark,
};

/// An error of the harness itself (the backend could not be seeded): not a contract failure,
/// but it fails the property that needed it.
pub type HarnessError = Box<dyn std::error::Error + Send + Sync>;

/// What the suite needs from one connector's test setup.
pub trait ContractHarness: Send {
    type Connector: Connector;

    /// The object type the suite seeds and reads.
    fn object_type(&self) -> ObjectType;

    /// A single-valued attribute, unique per object and present in every import, by which
    /// the suite recognises its objects.
    fn key_attribute(&self) -> AttributeName;

    /// A single-valued string attribute the suite changes, externally and by export.
    fn mutable_attribute(&self) -> AttributeName;

    /// The `index`-th sample object. Each holds a distinct key attribute and the mutable
    /// attribute, and only values the connector reads back equal (types included).
    fn sample(&self, index: usize) -> Attributes;

    /// The page size the harness configured its connectors with; the suite seeds enough
    /// objects for at least three pages.
    fn page_size(&self) -> usize;

    /// Whether the connector serves delta imports. When it does not, the delta properties
    /// are skipped.
    fn supports_delta(&self) -> bool {
        true
    }

    /// Makes the system hold exactly these objects of [`ContractHarness::object_type`], and
    /// makes it healthy again if [`ContractHarness::break_system`] broke it.
    fn seed(
        &mut self,
        objects: &[Attributes],
    ) -> impl Future<Output = Result<(), HarnessError>> + Send;

    /// A new connector over the system, as after a restart of the engine.
    fn connector(&mut self) -> impl Future<Output = Result<Self::Connector, HarnessError>> + Send;

    /// Sets one attribute of the object whose key attribute is `key`, without the connector.
    fn change_externally(
        &mut self,
        key: &Value,
        attribute: &AttributeName,
        value: Value,
    ) -> impl Future<Output = Result<(), HarnessError>> + Send;

    /// Deletes the object whose key attribute is `key`, without the connector.
    fn delete_externally(
        &mut self,
        key: &Value,
    ) -> impl Future<Output = Result<(), HarnessError>> + Send;

    /// Makes the system unhealthy (removes the file, stops the server). Returns `false` when
    /// the harness cannot, and the property is skipped.
    fn break_system(&mut self) -> impl Future<Output = Result<bool, HarnessError>> + Send {
        async { Ok(false) }
    }
}

/// One property that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractFailure {
    pub property: &'static str,
    pub detail: String,
}

impl fmt::Display for ContractFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.property, self.detail)
    }
}

/// The properties that held, failed or could not be tried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContractReport {
    pub passed: Vec<&'static str>,
    pub skipped: Vec<&'static str>,
    pub failures: Vec<ContractFailure>,
}

impl ContractReport {
    fn record(&mut self, property: &'static str, outcome: Result<Outcome, String>) {
        match outcome {
            Ok(Outcome::Held) => self.passed.push(property),
            Ok(Outcome::Skipped) => self.skipped.push(property),
            Err(detail) => self.failures.push(ContractFailure { property, detail }),
        }
    }

    /// Adds another report's results (the export suite's to the import suite's).
    pub fn merge(&mut self, other: ContractReport) {
        self.passed.extend(other.passed);
        self.skipped.extend(other.skipped);
        self.failures.extend(other.failures);
    }

    pub fn is_success(&self) -> bool {
        self.failures.is_empty()
    }

    /// Panics with every failed property, for use at the end of a test.
    #[track_caller]
    pub fn assert_passed(&self) {
        if !self.failures.is_empty() {
            let lines: Vec<String> = self.failures.iter().map(|f| format!("  - {f}")).collect();
            panic!(
                "{} of {} contract properties failed:\n{}",
                self.failures.len(),
                self.failures.len() + self.passed.len(),
                lines.join("\n")
            );
        }
    }
}

enum Outcome {
    Held,
    Skipped,
}

/// Fails the property with a message unless `condition` holds.
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}

fn harness_failed(what: &str) -> impl FnOnce(HarnessError) -> String + '_ {
    move |e| format!("the harness could not {what}: {e}")
}

/// Runs the read-side properties: schema, health, paged full import, stable anchors, delta.
pub async fn run<H: ContractHarness>(harness: &mut H) -> ContractReport {
    let mut report = ContractReport::default();
    report.record(
        "schema lists the seeded object type",
        schema_lists_the_seeded_type(harness).await,
    );
    report.record(
        "check passes on a healthy system",
        check_passes_on_a_healthy_system(harness).await,
    );
    report.record(
        "check reports a broken system",
        check_reports_a_broken_system(harness).await,
    );
    report.record(
        "a full import returns every object once, across pages",
        full_import_returns_every_object_once(harness).await,
    );
    report.record(
        "anchors are stable across imports",
        anchors_are_stable(harness).await,
    );
    report.record(
        "a delta after no change returns no entries",
        delta_after_no_change_is_empty(harness).await,
    );
    report.record(
        "a delta reflects an external change",
        delta_reflects_an_external_change(harness).await,
    );
    report.record(
        "a delta reflects an external delete",
        delta_reflects_an_external_delete(harness).await,
    );
    report
}

/// Runs the write-side properties: create, update, delete, one outcome per request.
pub async fn run_export<H>(harness: &mut H) -> ContractReport
where
    H: ContractHarness,
    H::Connector: Exporter,
{
    let mut report = ContractReport::default();
    report.record(
        "an exported create shows in the next import",
        export_create_shows_in_import(harness).await,
    );
    report.record(
        "an exported update changes only the given attributes",
        export_update_changes_only_given_attributes(harness).await,
    );
    report.record(
        "an exported delete removes the object, and deleting it again is applied",
        export_delete_removes_it(harness).await,
    );
    report.record(
        "an export returns one outcome per request",
        export_returns_one_outcome_per_request(harness).await,
    );
    report
}

/// Seeds `count` samples and returns them.
async fn seed<H: ContractHarness>(
    harness: &mut H,
    count: usize,
) -> Result<Vec<Attributes>, String> {
    let objects: Vec<Attributes> = (0..count).map(|i| harness.sample(i)).collect();
    harness
        .seed(&objects)
        .await
        .map_err(harness_failed("seed the system"))?;
    Ok(objects)
}

/// Enough objects for three pages and a bit.
fn paging_count<H: ContractHarness>(harness: &H) -> usize {
    2 * harness.page_size().max(1) + 3
}

/// Everything one import served.
struct Imported {
    pages: Vec<ImportPage>,
}

impl Imported {
    fn mode(&self) -> ImportMode {
        self.pages.first().map_or(ImportMode::Full, |p| p.mode)
    }

    fn entries(&self) -> impl Iterator<Item = &ImportEntry> {
        self.pages.iter().flat_map(|p| &p.entries)
    }

    fn watermark(&self) -> Option<Watermark> {
        self.pages.last().and_then(|p| p.watermark.clone())
    }

    fn problems(&self) -> Vec<String> {
        self.pages
            .iter()
            .flat_map(|p| &p.problems)
            .map(ToString::to_string)
            .collect()
    }

    /// The upserted objects by key, failing on anything a full import must not hold.
    fn by_key(&self, key: &AttributeName) -> Result<BTreeMap<Value, &ImportedObject>, String> {
        let mut objects = BTreeMap::new();
        for entry in self.entries() {
            let ImportEntry::Upsert(object) = entry else {
                return Err(format!(
                    "a full import returned {entry:?}; it must only return whole objects"
                ));
            };
            let Some(k) = object.attributes.first(key) else {
                return Err(format!(
                    "object {} has no key attribute {key}",
                    object.anchor
                ));
            };
            if let Some(first) = objects.insert(k.clone(), object) {
                return Err(format!(
                    "key {k:?} was returned twice (anchors {} and {})",
                    first.anchor, object.anchor
                ));
            }
        }
        Ok(objects)
    }
}

/// Reads every page of one import.
async fn import<C: Connector>(
    connector: &mut C,
    mode: ImportMode,
    watermark: Option<Watermark>,
) -> Result<Imported, String> {
    let mut pages: Vec<ImportPage> = Vec::new();
    let mut cursor = None;
    loop {
        let request = ImportRequest {
            mode,
            watermark: watermark.clone(),
            cursor: cursor.take(),
        };
        let page = connector
            .import(request)
            .await
            .map_err(|e| format!("import page {} failed: {e}", pages.len() + 1))?;
        if let Some(first) = pages.first()
            && page.mode != first.mode
        {
            return Err(format!(
                "page {} says {:?} but the import began as {:?}",
                pages.len() + 1,
                page.mode,
                first.mode
            ));
        }
        cursor = page.next.clone();
        let last = cursor.is_none();
        pages.push(page);
        if last {
            return Ok(Imported { pages });
        }
        ensure!(
            pages.len() < 1_000_000,
            "the import never ended (a million pages)"
        );
    }
}

async fn fresh<H: ContractHarness>(harness: &mut H) -> Result<H::Connector, String> {
    harness
        .connector()
        .await
        .map_err(harness_failed("make a connector"))
}

async fn full_import<H: ContractHarness>(harness: &mut H) -> Result<Imported, String> {
    let mut connector = fresh(harness).await?;
    let imported = import(&mut connector, ImportMode::Full, None).await?;
    ensure!(
        imported.mode() == ImportMode::Full,
        "a full request was answered with {:?}",
        imported.mode()
    );
    Ok(imported)
}

/// Whether `object` holds every attribute of `sample` with the same values (systems may add
/// their own attributes).
fn holds_sample(object: &ImportedObject, sample: &Attributes) -> Result<(), String> {
    for (name, values) in sample.iter() {
        let got = object.attributes.get(name).unwrap_or(&[]);
        ensure!(
            got == values,
            "object {}: {name} is {got:?}, expected {values:?}",
            object.anchor
        );
    }
    Ok(())
}

fn key_of<H: ContractHarness>(harness: &H, sample: &Attributes) -> Result<Value, String> {
    let key = harness.key_attribute();
    sample
        .first(&key)
        .cloned()
        .ok_or_else(|| format!("the harness's sample has no key attribute {key}"))
}

async fn schema_lists_the_seeded_type<H: ContractHarness>(
    harness: &mut H,
) -> Result<Outcome, String> {
    seed(harness, 3).await?;
    let mut connector = fresh(harness).await?;
    let schema = connector
        .schema()
        .await
        .map_err(|e| format!("schema failed: {e}"))?;
    let object_type = harness.object_type();
    let Some(type_schema) = schema.object_type(&object_type) else {
        let names: Vec<String> = schema
            .object_types
            .iter()
            .map(|t| t.name.to_string())
            .collect();
        return Err(format!(
            "the schema has no object type {object_type} (it has: {})",
            names.join(", ")
        ));
    };
    for attribute in [harness.key_attribute(), harness.mutable_attribute()] {
        ensure!(
            type_schema.attribute(&attribute).is_some(),
            "the schema of {object_type} has no attribute {attribute}"
        );
    }
    Ok(Outcome::Held)
}

async fn check_passes_on_a_healthy_system<H: ContractHarness>(
    harness: &mut H,
) -> Result<Outcome, String> {
    seed(harness, 3).await?;
    let health = fresh(harness)
        .await?
        .check()
        .await
        .map_err(|e| format!("check failed: {e}"))?;
    ensure!(
        health.is_healthy(),
        "check found problems on a healthy system: {:?}",
        health.problems
    );
    ensure!(
        !health.passed.is_empty(),
        "check says nothing about what it checked"
    );
    Ok(Outcome::Held)
}

async fn check_reports_a_broken_system<H: ContractHarness>(
    harness: &mut H,
) -> Result<Outcome, String> {
    seed(harness, 3).await?;
    let mut connector = fresh(harness).await?;
    if !harness
        .break_system()
        .await
        .map_err(harness_failed("break the system"))?
    {
        return Ok(Outcome::Skipped);
    }
    let result = connector.check().await;
    // Heal it for the properties that follow, whatever happened.
    seed(harness, 3).await?;
    // An error is a report too: the system could not even be checked.
    if let Ok(health) = result {
        ensure!(
            !health.is_healthy(),
            "check found no problem on a broken system"
        );
    }
    Ok(Outcome::Held)
}

async fn full_import_returns_every_object_once<H: ContractHarness>(
    harness: &mut H,
) -> Result<Outcome, String> {
    let samples = seed(harness, paging_count(harness)).await?;
    let imported = full_import(harness).await?;
    ensure!(
        imported.problems().is_empty(),
        "the import reported problems: {:?}",
        imported.problems()
    );
    ensure!(
        imported.pages.len() >= 3,
        "{} objects with a page size of {} came in {} page(s)",
        samples.len(),
        harness.page_size(),
        imported.pages.len()
    );
    for (i, page) in imported.pages.iter().enumerate() {
        let last = i + 1 == imported.pages.len();
        ensure!(
            last || page.watermark.is_none(),
            "page {} of {} carries a watermark",
            i + 1,
            imported.pages.len()
        );
    }
    let objects = imported.by_key(&harness.key_attribute())?;
    ensure!(
        objects.len() == samples.len(),
        "seeded {} objects, imported {}",
        samples.len(),
        objects.len()
    );
    for sample in &samples {
        let key = key_of(harness, sample)?;
        let object = objects
            .get(&key)
            .ok_or_else(|| format!("object {key:?} was not imported"))?;
        ensure!(
            object.object_type == harness.object_type(),
            "object {key:?} came as {}",
            object.object_type
        );
        holds_sample(object, sample)?;
    }
    Ok(Outcome::Held)
}

async fn anchors_are_stable<H: ContractHarness>(harness: &mut H) -> Result<Outcome, String> {
    seed(harness, 5).await?;
    let key = harness.key_attribute();
    let first = full_import(harness).await?;
    let second = full_import(harness).await?;
    let anchors = |imported: &Imported| -> Result<BTreeMap<Value, Anchor>, String> {
        Ok(imported
            .by_key(&key)?
            .into_iter()
            .map(|(k, o)| (k, o.anchor.clone()))
            .collect())
    };
    let (a, b) = (anchors(&first)?, anchors(&second)?);
    ensure!(
        a == b,
        "two imports gave different anchors: {a:?} then {b:?}"
    );
    Ok(Outcome::Held)
}

async fn delta_after_no_change_is_empty<H: ContractHarness>(
    harness: &mut H,
) -> Result<Outcome, String> {
    if !harness.supports_delta() {
        return Ok(Outcome::Skipped);
    }
    seed(harness, paging_count(harness)).await?;
    let watermark = full_import(harness)
        .await?
        .watermark()
        .ok_or("a full import ended without a watermark")?;
    let mut connector = fresh(harness).await?;
    let delta = import(&mut connector, ImportMode::Delta, Some(watermark)).await?;
    ensure!(
        delta.mode() == ImportMode::Delta,
        "a delta after no change was served as {:?}",
        delta.mode()
    );
    let entries: Vec<&ImportEntry> = delta.entries().collect();
    ensure!(
        entries.is_empty(),
        "a delta after no change returned {} entries: {entries:?}",
        entries.len()
    );
    ensure!(
        delta.watermark().is_some(),
        "the delta ended without a watermark"
    );
    Ok(Outcome::Held)
}

/// Full import, then `act` behind the connector's back, then a delta from the full import's
/// watermark; returns the first import's anchors by key and the delta.
async fn delta_after<H, F>(
    harness: &mut H,
    act: F,
) -> Result<(BTreeMap<Value, Anchor>, Vec<Attributes>, Imported), String>
where
    H: ContractHarness,
    F: AsyncFnOnce(&mut H, &Value) -> Result<(), HarnessError>,
{
    let samples = seed(harness, 5).await?;
    let key = harness.key_attribute();
    let first = full_import(harness).await?;
    let watermark = first
        .watermark()
        .ok_or("a full import ended without a watermark")?;
    let anchors: BTreeMap<Value, Anchor> = first
        .by_key(&key)?
        .into_iter()
        .map(|(k, o)| (k, o.anchor.clone()))
        .collect();
    let target = key_of(harness, &samples[2])?;
    act(harness, &target)
        .await
        .map_err(harness_failed("change the system"))?;
    let mut connector = fresh(harness).await?;
    let delta = import(&mut connector, ImportMode::Delta, Some(watermark.clone())).await?;
    let next = delta
        .watermark()
        .ok_or("the delta ended without a watermark")?;
    // The delta's own watermark must make the next delta empty, or changes repeat forever.
    let mut connector = fresh(harness).await?;
    let again = import(&mut connector, ImportMode::Delta, Some(next)).await?;
    let repeated: Vec<&ImportEntry> = again.entries().collect();
    ensure!(
        repeated.is_empty(),
        "a delta from the last delta's watermark returned {} entries (the first: {:?})",
        repeated.len(),
        repeated[0]
    );
    Ok((anchors, samples, delta))
}

async fn delta_reflects_an_external_change<H: ContractHarness>(
    harness: &mut H,
) -> Result<Outcome, String> {
    if !harness.supports_delta() {
        return Ok(Outcome::Skipped);
    }
    let attribute = harness.mutable_attribute();
    let new_value = Value::from("changed behind the connector's back");
    let (anchors, samples, delta) = {
        let (attribute, new_value) = (attribute.clone(), new_value.clone());
        delta_after(harness, async move |h: &mut H, key: &Value| {
            h.change_externally(key, &attribute, new_value).await
        })
        .await?
    };
    let key = key_of(harness, &samples[2])?;
    let anchor = anchors
        .get(&key)
        .ok_or_else(|| format!("object {key:?} was not in the full import"))?;
    let expected = [new_value];
    match delta.mode() {
        ImportMode::Delta => {
            let seen = delta.entries().any(|entry| match entry {
                ImportEntry::Upsert(o) => &o.anchor == anchor && o.attributes.get(&attribute) == Some(&expected[..]),
                ImportEntry::Modify { anchor: a, changes, .. } => {
                    a == anchor
                        && changes.iter().any(|c| {
                            c.name == attribute
                                && matches!(&c.change, ValueChange::Replace(v) | ValueChange::Add(v) if v[..] == expected)
                        })
                }
                ImportEntry::Delete { .. } => false,
            });
            ensure!(
                seen,
                "the delta did not report {attribute} of {anchor} changing: {:?}",
                delta.entries().collect::<Vec<_>>()
            );
        }
        ImportMode::Full => {
            let objects = delta.by_key(&harness.key_attribute())?;
            ensure!(
                objects.len() == samples.len(),
                "the full import had {} objects, not {}",
                objects.len(),
                samples.len()
            );
            let object = objects
                .get(&key)
                .ok_or_else(|| format!("object {key:?} is missing"))?;
            let got = object.attributes.get(&attribute);
            ensure!(
                got == Some(&expected[..]),
                "object {key:?}: {attribute} is {got:?} after the change"
            );
        }
    }
    Ok(Outcome::Held)
}

async fn delta_reflects_an_external_delete<H: ContractHarness>(
    harness: &mut H,
) -> Result<Outcome, String> {
    if !harness.supports_delta() {
        return Ok(Outcome::Skipped);
    }
    let (anchors, samples, delta) = delta_after(harness, async |h: &mut H, key: &Value| {
        h.delete_externally(key).await
    })
    .await?;
    let key = key_of(harness, &samples[2])?;
    let anchor = anchors
        .get(&key)
        .ok_or_else(|| format!("object {key:?} was not in the full import"))?;
    match delta.mode() {
        ImportMode::Delta => {
            let deleted = delta
                .entries()
                .any(|e| matches!(e, ImportEntry::Delete { anchor: a, .. } if a == anchor));
            ensure!(
                deleted,
                "the delta did not report {anchor} deleted: {:?}",
                delta.entries().collect::<Vec<_>>()
            );
        }
        ImportMode::Full => {
            let objects = delta.by_key(&harness.key_attribute())?;
            ensure!(
                !objects.contains_key(&key),
                "deleted object {key:?} is still imported"
            );
            ensure!(
                objects.len() == samples.len() - 1,
                "the full import had {} objects, not {}",
                objects.len(),
                samples.len() - 1
            );
        }
    }
    Ok(Outcome::Held)
}

fn request(
    id: i64,
    object_type: &ObjectType,
    anchor: Option<Anchor>,
    change: ObjectChange,
) -> ExportRequest {
    ExportRequest {
        id: ExportId(id),
        object_type: object_type.clone(),
        anchor,
        change,
    }
}

/// Exports one batch with a fresh connector and finishes the run.
async fn export_run<H>(
    harness: &mut H,
    batch: Vec<ExportRequest>,
) -> Result<Vec<ExportOutcome>, String>
where
    H: ContractHarness,
    H::Connector: Exporter,
{
    let mut connector = fresh(harness).await?;
    let count = batch.len();
    let outcomes = connector
        .export(batch)
        .await
        .map_err(|e| format!("export of {count} request(s) failed: {e}"))?;
    connector
        .finish()
        .await
        .map_err(|e| format!("finish failed: {e}"))?;
    Ok(outcomes)
}

fn only_outcome(outcomes: Vec<ExportOutcome>) -> Result<ExportResult, String> {
    match <[ExportOutcome; 1]>::try_from(outcomes) {
        Ok([outcome]) => Ok(outcome.result),
        Err(outcomes) => Err(format!(
            "one request gave {} outcomes: {outcomes:?}",
            outcomes.len()
        )),
    }
}

/// Seeds a few objects and imports them; returns the samples and the imported objects by key.
async fn seeded_and_imported<H: ContractHarness>(
    harness: &mut H,
) -> Result<(Vec<Attributes>, BTreeMap<Value, ImportedObject>), String> {
    let samples = seed(harness, 4).await?;
    let imported = full_import(harness).await?;
    let objects = imported
        .by_key(&harness.key_attribute())?
        .into_iter()
        .map(|(k, o)| (k, o.clone()))
        .collect();
    Ok((samples, objects))
}

async fn export_create_shows_in_import<H>(harness: &mut H) -> Result<Outcome, String>
where
    H: ContractHarness,
    H::Connector: Exporter,
{
    seed(harness, 2).await?;
    let created = harness.sample(1_000);
    let key = key_of(harness, &created)?;
    let object_type = harness.object_type();
    let change = ObjectChange::Create {
        attributes: created.clone(),
    };
    let result =
        only_outcome(export_run(harness, vec![request(1, &object_type, None, change)]).await?)?;
    let ExportResult::Applied { anchor } = result else {
        return Err(format!("the create was not applied: {result:?}"));
    };
    let imported = full_import(harness).await?;
    let objects = imported.by_key(&harness.key_attribute())?;
    ensure!(
        objects.len() == 3,
        "after one create, {} objects instead of 3",
        objects.len()
    );
    let object = objects
        .get(&key)
        .ok_or_else(|| format!("the created object {key:?} was not imported"))?;
    holds_sample(object, &created)?;
    if let Some(anchor) = anchor {
        ensure!(
            anchor == object.anchor,
            "the create said anchor {anchor}, the import says {}",
            object.anchor
        );
    }
    Ok(Outcome::Held)
}

async fn export_update_changes_only_given_attributes<H>(harness: &mut H) -> Result<Outcome, String>
where
    H: ContractHarness,
    H::Connector: Exporter,
{
    let (samples, before) = seeded_and_imported(harness).await?;
    let key = key_of(harness, &samples[1])?;
    let object = before
        .get(&key)
        .ok_or_else(|| format!("object {key:?} was not imported"))?;
    let attribute = harness.mutable_attribute();
    let new_value = Value::from("updated by export");
    let change = ObjectChange::Update {
        changes: vec![AttributeChange::replace(
            attribute.clone(),
            vec![new_value.clone()],
        )],
    };
    let result = only_outcome(
        export_run(
            harness,
            vec![request(
                1,
                &harness.object_type(),
                Some(object.anchor.clone()),
                change,
            )],
        )
        .await?,
    )?;
    ensure!(
        matches!(result, ExportResult::Applied { .. }),
        "the update was not applied: {result:?}"
    );
    let after = full_import(harness).await?;
    let after = after.by_key(&harness.key_attribute())?;
    for sample in &samples {
        let k = key_of(harness, sample)?;
        let object = after
            .get(&k)
            .ok_or_else(|| format!("object {k:?} vanished after an update of {key:?}"))?;
        let mut expected = sample.clone();
        if k == key {
            expected.set(attribute.clone(), vec![new_value.clone()]);
        }
        holds_sample(object, &expected)?;
    }
    Ok(Outcome::Held)
}

async fn export_delete_removes_it<H>(harness: &mut H) -> Result<Outcome, String>
where
    H: ContractHarness,
    H::Connector: Exporter,
{
    let (samples, before) = seeded_and_imported(harness).await?;
    let key = key_of(harness, &samples[0])?;
    let anchor = before
        .get(&key)
        .map(|o| o.anchor.clone())
        .ok_or_else(|| format!("object {key:?} was not imported"))?;
    let object_type = harness.object_type();
    let result = only_outcome(
        export_run(
            harness,
            vec![request(
                1,
                &object_type,
                Some(anchor.clone()),
                ObjectChange::Delete,
            )],
        )
        .await?,
    )?;
    ensure!(
        matches!(result, ExportResult::Applied { .. }),
        "the delete was not applied: {result:?}"
    );
    let after = full_import(harness).await?;
    let after = after.by_key(&harness.key_attribute())?;
    ensure!(
        !after.contains_key(&key),
        "deleted object {key:?} is still imported"
    );
    ensure!(
        after.len() == samples.len() - 1,
        "after one delete, {} objects instead of {}",
        after.len(),
        samples.len() - 1
    );
    // The engine may repeat a delete whose outcome was lost: the object is gone, as asked.
    let again = only_outcome(
        export_run(
            harness,
            vec![request(2, &object_type, Some(anchor), ObjectChange::Delete)],
        )
        .await?,
    )?;
    ensure!(
        matches!(again, ExportResult::Applied { .. }),
        "deleting an object already gone was not applied: {again:?}"
    );
    Ok(Outcome::Held)
}

async fn export_returns_one_outcome_per_request<H>(harness: &mut H) -> Result<Outcome, String>
where
    H: ContractHarness,
    H::Connector: Exporter,
{
    let (samples, before) = seeded_and_imported(harness).await?;
    let object_type = harness.object_type();
    let anchor_of = |i: usize| -> Result<Anchor, String> {
        let key = key_of(harness, &samples[i])?;
        before
            .get(&key)
            .map(|o| o.anchor.clone())
            .ok_or_else(|| format!("object {key:?} was not imported"))
    };
    let update = ObjectChange::Update {
        changes: vec![AttributeChange::replace(
            harness.mutable_attribute(),
            vec![Value::from("batch")],
        )],
    };
    let batch = vec![
        request(
            11,
            &object_type,
            None,
            ObjectChange::Create {
                attributes: harness.sample(2_000),
            },
        ),
        request(
            12,
            &object_type,
            None,
            ObjectChange::Create {
                attributes: harness.sample(2_001),
            },
        ),
        request(13, &object_type, Some(anchor_of(1)?), update),
        request(14, &object_type, Some(anchor_of(2)?), ObjectChange::Delete),
    ];
    let mut ids: Vec<i64> = export_run(harness, batch)
        .await?
        .iter()
        .map(|o| o.id.0)
        .collect();
    ids.sort_unstable();
    ensure!(
        ids == [11, 12, 13, 14],
        "requests 11 to 14 got outcomes for {ids:?}"
    );
    Ok(Outcome::Held)
}
