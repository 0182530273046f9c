mod openldap;
