"""Learning: courses, lessons and quizzes, certificates, course assignments and in-person classes.

What is where:

* ``models.py``       courses, modules, lessons, quizzes (synced from ``courses/``) and each
  learner's progress, attempts, certificates, assignments and classes;
* ``operations.py``   what learners do and may open: enrol, read, take quizzes, complete
  modules and courses, certificates; the course, lesson and quiz lookups pages and API share;
* ``assignments.py``  who may assign, assigning a course to a role in a unit, assignees' status;
* ``classes.py``      who may record in-person classes, recording one and crediting attendees;
* ``content.py``      reading and validating course folders, syncing them into the database;
* ``outline.py``      a course's table of contents and lesson texts, cached for the lesson page;
* ``markdown.py``     lesson Markdown to safe HTML;
* ``search.py``       keyword search over open courses and lessons in the reader's language,
  case and Vietnamese accents aside, with a snippet around the match;
* ``certificates.py`` the certificate PDF;
* ``blueprint.py``    the blueprints alone; ``routes.py`` (learner pages),
  ``assignment_routes.py`` (assignments and classes), ``certificate_routes.py`` (download, the
  public check and its box for a typed code) register on them;
* ``forms.py``        the assignment and class forms;
* ``cli.py``          ``flask courses validate`` and ``flask courses sync``.

The JSON API for learners is ``app/api/learning.py``; it calls the same operations.
"""
