//! Next.js server actions as a browser without JavaScript submits them: find the form and its
//! hidden action fields in the page HTML, post them as multipart/form-data.
