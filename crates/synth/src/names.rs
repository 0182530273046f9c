//! Built-in lists: names (with diacritics, so folding and unique-UPN logic get exercised),
//! departments and their titles, countries, contractor companies.

pub(crate) const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "José",
    "Zoë",
    "Anna",
    "Mohammed",
    "Wei",
    "Olivia",
    "Liam",
    "Sofía",
    "Noah",
    "Emma",
    "Björn",
    "Chloé",
    "Søren",
    "Łukasz",
    "François",
    "Renée",
    "Jürgen",
    "Aoife",
    "Siobhán",
    "Nguyễn",
    "Priya",
    "Arjun",
    "Yuki",
    "Hiroshi",
    "Fatima",
    "Omar",
    "Ingrid",
    "Sven",
    "Élodie",
    "Mateo",
    "Lucía",
    "João",
    "Gonçalo",
    "Ana",
    "Dmitri",
    "Olga",
    "Kwame",
    "Amara",
    "Chen",
    "Mei",
    "Lars",
    "Astrid",
    "Pål",
    "Zoltán",
    "Ágnes",
    "Tomás",
    "Nuño",
    "Ludwig",
    "Greta",
    "David",
    "Sarah",
    "Michael",
    "Laura",
    "Daniel",
    "Eva",
    "Peter",
    "Julia",
    "Ólafur",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Smith",
    "Müller",
    "Ólafsdóttir",
    "García",
    "Nguyen",
    "Dvořák",
    "Øvergaard",
    "Çelik",
    "Kowalski",
    "Johnson",
    "Brown",
    "Schmidt",
    "Fernández",
    "López",
    "Martínez",
    "Rossi",
    "Bianchi",
    "Dubois",
    "Lefèvre",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Jensen",
    "Hansen",
    "Nielsen",
    "Andersson",
    "Lindström",
    "Nowak",
    "Wiśniewski",
    "Novák",
    "Horváth",
    "Kovačević",
    "Yılmaz",
    "Şahin",
    "Tanaka",
    "Suzuki",
    "Sato",
    "Kim",
    "Lee",
    "Park",
    "Wang",
    "Li",
    "Zhang",
    "Patel",
    "Singh",
    "Sharma",
    "Okafor",
    "Mensah",
    "Silva",
    "Santos",
    "Gonçalves",
    "Petrov",
    "Ivanova",
    "Van der Berg",
    "De Vries",
    "Jónsson",
    "Guðmundsdóttir",
    "Weiß",
    "Groß",
    "Taylor",
];

/// Each department with the titles found in it.
pub(crate) const DEPARTMENTS: &[(&str, &[&str])] = &[
    (
        "Engineering",
        &[
            "Software Engineer",
            "Senior Software Engineer",
            "Engineering Manager",
            "Architect",
        ],
    ),
    (
        "Sales",
        &[
            "Account Executive",
            "Sales Manager",
            "Sales Development Representative",
        ],
    ),
    (
        "Marketing",
        &[
            "Marketing Specialist",
            "Content Strategist",
            "Marketing Manager",
        ],
    ),
    (
        "Finance",
        &["Accountant", "Financial Analyst", "Controller"],
    ),
    (
        "Human Resources",
        &["HR Generalist", "Recruiter", "HR Business Partner"],
    ),
    ("Legal", &["Counsel", "Paralegal"]),
    (
        "Operations",
        &[
            "Operations Analyst",
            "Operations Manager",
            "Logistics Coordinator",
        ],
    ),
    (
        "Customer Support",
        &[
            "Support Agent",
            "Support Team Lead",
            "Customer Success Manager",
        ],
    ),
    (
        "IT",
        &[
            "Systems Administrator",
            "Service Desk Analyst",
            "IT Manager",
        ],
    ),
    ("Retail", &["Store Associate", "Store Manager", "Cashier"]),
    (
        "Manufacturing",
        &["Line Operator", "Shift Supervisor", "Quality Inspector"],
    ),
    (
        "Research",
        &["Research Scientist", "Lab Technician", "Research Director"],
    ),
];

/// Country code (ISO 3166 alpha-2) and international dialling prefix.
pub(crate) const COUNTRIES: &[(&str, &str)] = &[
    ("US", "+1"),
    ("GB", "+44"),
    ("DE", "+49"),
    ("FR", "+33"),
    ("ES", "+34"),
    ("IS", "+354"),
    ("IN", "+91"),
    ("JP", "+81"),
    ("BR", "+55"),
    ("NL", "+31"),
];

/// Contractor companies and their mail domains.
pub(crate) const COMPANIES: &[(&str, &str)] = &[
    ("Fabrikam", "fabrikam.com"),
    ("Northwind Traders", "northwindtraders.com"),
    ("Tailspin Toys", "tailspintoys.com"),
    ("Wingtip Toys", "wingtiptoys.com"),
    ("Adventure Works", "adventure-works.com"),
    ("Litware", "litwareinc.com"),
];

/// Lower-case ASCII for a mail local part: diacritics folded (`Ó` → `o`, `ß` → `ss`),
/// anything else that is not a letter or digit dropped (`O'Brien` → `obrien`).
pub(crate) fn mail_part(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        let folded = match c {
            'a'..='z' | '0'..='9' => {
                out.push(c);
                continue;
            }
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ą' => "a",
            'é' | 'è' | 'ê' | 'ë' | 'ě' | 'ę' | 'ễ' | 'ế' => "e",
            'í' | 'ì' | 'î' | 'ï' | 'ı' => "i",
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'ő' => "o",
            'ú' | 'ù' | 'û' | 'ü' | 'ů' | 'ű' => "u",
            'ý' | 'ÿ' => "y",
            'ñ' | 'ń' => "n",
            'ç' | 'č' | 'ć' => "c",
            'ł' => "l",
            'ř' => "r",
            'š' | 'ś' | 'ş' => "s",
            'ž' | 'ź' | 'ż' => "z",
            'ğ' => "g",
            'đ' | 'ð' => "d",
            'ß' => "ss",
            'æ' => "ae",
            'œ' => "oe",
            'þ' => "th",
            _ => "",
        };
        out.push_str(folded);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_parts_fold_diacritics_and_drop_punctuation() {
        assert_eq!(mail_part("Ólafsdóttir"), "olafsdottir");
        assert_eq!(mail_part("Zoë"), "zoe");
        assert_eq!(mail_part("O'Brien"), "obrien");
        assert_eq!(mail_part("Van der Berg"), "vanderberg");
        assert_eq!(mail_part("Weiß"), "weiss");
        assert_eq!(mail_part("Guðmundsdóttir"), "gudmundsdottir");
    }

    #[test]
    fn every_built_in_name_folds_to_something() {
        for name in FIRST_NAMES.iter().chain(LAST_NAMES) {
            let part = mail_part(name);
            assert!(!part.is_empty() && part.is_ascii(), "{name} → {part}");
        }
    }
}
