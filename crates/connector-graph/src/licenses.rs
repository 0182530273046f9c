//! The tenant's subscriptions: SKU part numbers (what rules write, such as `SPE_E3`) to SKU
//! ids (what Graph takes), service plans by name, and seats.

use std::collections::BTreeMap;

use serde_json::Value as Json;

#[derive(Clone, Debug)]
pub struct Sku {
    pub id: String,
    pub part_number: String,
    /// Service plan name → id.
    pub plans: BTreeMap<String, String>,
    pub enabled_seats: i64,
    pub consumed: i64,
}

impl Sku {
    pub fn free_seats(&self) -> i64 {
        self.enabled_seats - self.consumed
    }
}

/// The subscribed SKUs, as `GET /subscribedSkus` gives them.
#[derive(Clone, Debug, Default)]
pub struct SkuCatalogue {
    skus: Vec<Sku>,
}

impl SkuCatalogue {
    pub fn from_json(body: &Json) -> Self {
        let skus = body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|sku| {
                Some(Sku {
                    id: sku["skuId"].as_str()?.to_owned(),
                    part_number: sku["skuPartNumber"].as_str()?.to_owned(),
                    plans: sku["servicePlans"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|plan| {
                            Some((
                                plan["servicePlanName"].as_str()?.to_owned(),
                                plan["servicePlanId"].as_str()?.to_owned(),
                            ))
                        })
                        .collect(),
                    enabled_seats: sku["prepaidUnits"]["enabled"].as_i64().unwrap_or(0),
                    consumed: sku["consumedUnits"].as_i64().unwrap_or(0),
                })
            })
            .collect();
        Self { skus }
    }

    pub fn by_part_number(&self, part_number: &str) -> Option<&Sku> {
        self.skus
            .iter()
            .find(|s| s.part_number.eq_ignore_ascii_case(part_number))
    }

    pub fn by_id(&self, id: &str) -> Option<&Sku> {
        self.skus.iter().find(|s| s.id.eq_ignore_ascii_case(id))
    }

    pub fn part_numbers(&self) -> impl Iterator<Item = &str> {
        self.skus.iter().map(|s| s.part_number.as_str())
    }

    /// The SKU's id and the ids of the plans to disable, or why the SKU cannot be assigned.
    pub fn resolve(
        &self,
        part_number: &str,
        disabled_plans: &[String],
    ) -> Result<(String, Vec<String>), String> {
        let sku = self.by_part_number(part_number).ok_or_else(|| {
            let known: Vec<&str> = self.part_numbers().collect();
            format!(
                "the tenant has no subscription \"{part_number}\" (it has: {})",
                known.join(", ")
            )
        })?;
        let plans = disabled_plans
            .iter()
            .map(|name| {
                sku.plans
                    .iter()
                    .find(|(plan, _)| plan.eq_ignore_ascii_case(name))
                    .map(|(_, id)| id.clone())
                    .ok_or_else(|| format!("{part_number} has no service plan \"{name}\""))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((sku.id.clone(), plans))
    }
}
