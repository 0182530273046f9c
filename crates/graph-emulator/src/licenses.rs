//! The tenant's subscriptions (`subscribedSkus`) and direct license assignment.

use serde_json::{Value, json};

/// A service plan inside a SKU.
#[derive(Debug, Clone, Copy)]
pub struct ServicePlan {
    pub id: &'static str,
    pub name: &'static str,
}

/// A subscribed SKU with its seat count.
#[derive(Debug, Clone, Copy)]
pub struct Sku {
    pub sku_id: &'static str,
    pub part_number: &'static str,
    pub seats: u32,
    pub plans: &'static [ServicePlan],
}

/// The SKUs every emulated tenant starts with (Microsoft's published SKU and plan ids).
pub const SKUS: &[Sku] = &[
    Sku {
        sku_id: "6fd2c87f-b296-42f0-b197-1e91e994b900",
        part_number: "ENTERPRISEPACK",
        seats: 25,
        plans: &[
            ServicePlan {
                id: "efb87545-963c-4e0d-99df-69c6916d9eb0",
                name: "EXCHANGE_S_ENTERPRISE",
            },
            ServicePlan {
                id: "5dbe027f-2339-4123-9542-606e4d348a72",
                name: "SHAREPOINTENTERPRISE",
            },
            ServicePlan {
                id: "57ff2da0-773e-42df-b2af-ffb7a2317929",
                name: "TEAMS1",
            },
        ],
    },
    Sku {
        sku_id: "efccb6f7-5641-4e0e-bd10-b4976e1bf68e",
        part_number: "EMS",
        seats: 10,
        plans: &[ServicePlan {
            id: "41781fb2-bc02-4b7c-bd55-b576c07bb09d",
            name: "AAD_PREMIUM",
        }],
    },
];

pub fn sku(sku_id: &str) -> Option<&'static Sku> {
    SKUS.iter().find(|s| s.sku_id.eq_ignore_ascii_case(sku_id))
}

/// One `subscribedSku` as `GET /subscribedSkus` returns it.
pub fn subscribed_sku(tenant_id: &str, sku: &Sku, consumed: usize) -> Value {
    json!({
        "accountName": "Contoso",
        "accountId": tenant_id,
        "appliesTo": "User",
        "capabilityStatus": "Enabled",
        "consumedUnits": consumed,
        "id": format!("{tenant_id}_{}", sku.sku_id),
        "prepaidUnits": {"enabled": sku.seats, "lockedOut": 0, "suspended": 0, "warning": 0},
        "servicePlans": sku.plans.iter().map(|p| json!({
            "servicePlanId": p.id, "servicePlanName": p.name,
            "provisioningStatus": "Success", "appliesTo": "User"
        })).collect::<Vec<_>>(),
        "skuId": sku.sku_id,
        "skuPartNumber": sku.part_number,
        "subscriptionIds": [],
    })
}

/// One `licenseDetails` entry for a user's assigned license.
pub fn license_details(user_id: &str, sku: &Sku, disabled: &[String]) -> Value {
    json!({
        "id": format!("{user_id}_{}", sku.sku_id),
        "skuId": sku.sku_id,
        "skuPartNumber": sku.part_number,
        "servicePlans": sku.plans.iter().map(|p| json!({
            "servicePlanId": p.id, "servicePlanName": p.name,
            "provisioningStatus": if disabled.iter().any(|d| d.eq_ignore_ascii_case(p.id)) { "Disabled" } else { "Success" },
            "appliesTo": "User"
        })).collect::<Vec<_>>(),
    })
}
