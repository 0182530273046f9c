mod openldap;
mod samba;
